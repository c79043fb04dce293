"""Every documented answer of the three FaceID operations, mapped to a domain result or an
outage, with whether Tencent bills it.

A FaceID operation answers HTTP 200 with ``{"Response": {"Result": …, "Description": …,
"RequestId": …}}``, or with ``{"Response": {"Error": {"Code": …, "Message": …}, "RequestId":
…}}`` (the SDK raises ``TencentCloudSDKException`` with that code). A ``Result`` is looked up
in the operation's table below; an ``Error.Code`` in the operation's table (the photo
operation's ``FailedOperation.*`` codes are taken in either place; a success code never is),
then in ``ERRORS``. A code in
no table, a missing ``Result``, a timeout, a lost connection, a 5xx or a body that is not
JSON is an outage (``UpstreamUnavailable``), never a pass.

Billing: Tencent lists each operation's 收费结果码 (billed) and 不收费结果码 (not billed) with
its ``Result``; the photo operation's billing is in the product's code list (人脸核验类). No
outage is billed. Where Tencent does not say, a definite answer about the person is taken as
billed and a service failure or a refused input as not (noted next to the code).

Failure codes are the service's (docs/API.md): the ``identity`` check fails
``name_id_mismatch`` or ``id_not_found``; ``bank_card`` fails ``bank_card_mismatch``,
``phone_mismatch`` or ``card_not_supported``; ``portrait_authority`` fails
``portrait_mismatch``. An input Tencent refuses as malformed fails with the validation code of
that field (``id_number_invalid``, ``name_invalid``, ``bank_card_invalid``, ``phone_invalid``),
unbilled, as the verifier protocol's ``invalid_input`` does; a selfie Tencent cannot use fails
with the face check's code (``no_face_found``, ``multiple_faces``, ``face_too_small``) or the
image's (``image_blurry``, ``image_unreadable``), unbilled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kyc_service.domain.results import CheckOutcome, Match, Mismatch, NotFound


@dataclass(frozen=True)
class Outage:
    """Tencent gives no usable answer now: ``UpstreamUnavailable``, never a pass.

    ``reason`` goes into the exception's message (short; no personal data, no secret).
    ``down`` is true when the code says the service or the account fails every call (it
    counts toward the adapter's circuit breaker); an answer about one request's data does
    not. ``billable``: whether Tencent charges it (no documented outage is charged).
    """

    reason: str
    down: bool = False
    billable: bool = False


Answer = CheckOutcome | Outage
"""What a code means: a domain result (with its ``billable``) or an outage."""

PORTRAIT_THRESHOLD = 70.0
"""Tencent's fixed pass mark for ``Sim`` (0–100) in ImageRecognitionV2; informative only —
the ``Result`` code decides, the score is reported as ``Sim / 100``."""

# --- IdCardVerification (身份信息认证): Name, IdCard ------------------------------------------
# https://cloud.tencent.com/document/api/1007/33188 (output parameter Result):
# 收费结果码 0, -1; 不收费结果码 -2 … -7.
IDENTITY_RESULTS: dict[str, Answer] = {
    "0": Match(billable=True),  # 姓名和身份证号一致
    "-1": Mismatch("name_id_mismatch", billable=True),  # 姓名和身份证号不一致
    "-2": Mismatch("id_number_invalid", billable=False),  # 非法身份证号（长度、校验位等不正确）
    "-3": Mismatch("name_invalid", billable=False),  # 非法姓名（长度、格式等不正确）
    "-4": Outage("the identity database is failing", down=True),  # 证件库服务异常
    "-5": NotFound("id_not_found", billable=False),  # 证件库中无此身份证记录 (documented unbilled)
    "-6": Outage("the authority is being upgraded", down=True),  # 权威比对系统升级中
    "-7": Outage("the daily limit of checks is reached"),  # 认证次数超过当日限制
}

# --- BankCard4EVerification (银行卡四要素核验): Name, BankCard, Phone, IdCard -----------------
# https://cloud.tencent.com/document/api/1007/35775 (output parameter Result):
# 收费结果码 0, -1, -6 … -17, -21; 不收费结果码 -2 … -5, -18, -19, -20.
# Tencent does not tell a wrong phone from another wrong element (-1 covers both), so this
# adapter never answers phone_mismatch.
BANK_RESULTS: dict[str, Answer] = {
    "0": Match(billable=True),  # 认证通过
    "-1": Mismatch("bank_card_mismatch", billable=True),  # 认证未通过
    "-6": Mismatch("bank_card_mismatch", billable=True),  # 持卡人信息有误
    "-7": Mismatch("card_not_supported", billable=True),  # 未开通无卡支付
    "-8": Mismatch("card_not_supported", billable=True),  # 此卡被没收
    "-9": Mismatch("bank_card_mismatch", billable=True),  # 无效卡号
    "-10": Mismatch("card_not_supported", billable=True),  # 此卡无对应发卡行
    "-11": Mismatch("card_not_supported", billable=True),  # 该卡未初始化或睡眠卡
    "-12": Mismatch("card_not_supported", billable=True),  # 作弊卡、吞卡
    "-13": Mismatch("card_not_supported", billable=True),  # 此卡已挂失
    "-14": Mismatch("card_not_supported", billable=True),  # 该卡已过期
    "-15": Mismatch("card_not_supported", billable=True),  # 受限制的卡
    "-16": Mismatch("card_not_supported", billable=True),  # 密码错误次数超限
    "-17": Mismatch("card_not_supported", billable=True),  # 发卡行不支持此交易
    "-21": Mismatch("card_not_supported", billable=True),  # 卡状态异常或卡号错误
    "-2": Mismatch("name_invalid", billable=False),  # 姓名校验不通过
    "-3": Mismatch("id_number_invalid", billable=False),  # 身份证号码有误
    "-4": Mismatch("bank_card_invalid", billable=False),  # 银行卡号格式有误
    "-5": Mismatch("phone_invalid", billable=False),  # 手机号码不合法
    "-18": Outage("the verification centre is busy", down=True),  # 验证中心服务繁忙
    "-19": Outage("the daily limit of checks is reached"),  # 验证次数超限，请次日重试
    # 该证件号暂不支持核验，当前仅支持二代身份证: this card cannot be checked for this person
    "-20": Mismatch("card_not_supported", billable=False),
}

# --- ImageRecognitionV2 (照片人脸核身 V2.0): IdCard, Name, ImageBase64 ----------------------
# https://cloud.tencent.com/document/api/1007/102203: Result is "Success" or one of the
# FailedOperation codes of its error-code list; Sim is 0–100, pass mark fixed at 70.
# (ImageRecognition, https://cloud.tencent.com/document/api/1007/31820, is closed to new
# customers and absent from the current SDK; V2 takes the same three fields.)
# Billing, https://cloud.tencent.com/document/product/1007/47911 (人脸核验类): Success,
# FailedOperation.IdNameMisMatch and FailedOperation.CompareLowSimilarity are billed (是);
# the other codes are not (否). Descriptions: the FaceID error centre,
# https://cloud.tencent.com/api/error-center?product=faceid.
PORTRAIT_RESULTS: dict[str, Answer] = {
    "Success": Match(billable=True),  # 成功 (Sim ≥ 70)
    "FailedOperation.CompareLowSimilarity": Mismatch("portrait_mismatch", billable=True),
    # 姓名和身份证号不一致: the authority's answer about the person, not about the photo
    "FailedOperation.IdNameMisMatch": Mismatch("name_id_mismatch", billable=True),
    "FailedOperation.IdNoExistSystem": NotFound("id_not_found", billable=False),  # 库中无此号
    "FailedOperation.IdFormatError": Mismatch("id_number_invalid", billable=False),
    "FailedOperation.NameFormatError": Mismatch("name_invalid", billable=False),
    "FailedOperation.LifePhotoDetectFake": Mismatch("portrait_mismatch", billable=False),
    "FailedOperation.LifePhotoDetectNoFaces": Mismatch("no_face_found", billable=False),
    "FailedOperation.IncompleteFace": Mismatch("no_face_found", billable=False),
    "FailedOperation.CoveredFace": Mismatch("no_face_found", billable=False),
    "FailedOperation.LifePhotoDetectFaces": Mismatch("multiple_faces", billable=False),
    "FailedOperation.LifePhotoPoorQuality": Mismatch("face_too_small", billable=False),
    "FailedOperation.ImageBlur": Mismatch("image_blurry", billable=False),
    "FailedOperation.PoorImageQuality": Mismatch("image_blurry", billable=False),
    "FailedOperation.ImageDecodeFailed": Mismatch("image_unreadable", billable=False),
    "FailedOperation.EmptyImageError": Mismatch("image_unreadable", billable=False),
    # Nothing to compare with, or a size the service chose: a person decides (in review).
    "FailedOperation.IdPhotoNoExist": Outage("the authority holds no photo of the person"),
    "FailedOperation.IdPhotoPoorQuality": Outage("the authority's photo cannot be compared"),
    "FailedOperation.LifePhotoSizeError": Outage("the selfie's size is refused"),
    "FailedOperation.ImageSizeTooLarge": Outage("the selfie is over the size limit"),
    "FailedOperation.IdentityAuthLimitExceeded": Outage("the daily limit for the person"),
    "FailedOperation.IdPhotoSystemNoanswer": Outage("the authority did not answer", down=True),
    "FailedOperation.CompareFail": Outage("the comparison failed", down=True),
    "FailedOperation.CompareSystemError": Outage("the comparison engine failed", down=True),
    "FailedOperation.CompareLibServiceUnavailable": Outage("the photo source is down", down=True),
    "FailedOperation.DetectEngineSystemError": Outage("the face engine failed", down=True),
    "FailedOperation.DecryptSystemError": Outage("decryption failed", down=True),
    "FailedOperation.StsUnAuthErrError": Outage("STS is not authorized", down=True),
    "FailedOperation.RequestLimitExceeded": Outage("the call limit is reached", down=True),
    "FailedOperation.UnKnown": Outage("an unknown failure", down=True),
}

PORTRAIT_SCORED = frozenset({"Success", "FailedOperation.CompareLowSimilarity"})
"""The photo results that come from a comparison: their ``Sim`` is the score."""

# --- Errors of every operation (Response.Error.Code, and the SDK's own) ----------------------
# Common and FaceID error codes: https://cloud.tencent.com/api/error-center?product=faceid and
# https://www.tencentcloud.com/document/product/1061/55390 (公共错误码: none billed). All are
# outages; those that fail every call (credentials, account, throttling, the service) count
# toward the breaker.
_CREDENTIALS = Outage("Tencent refused the credentials or the signature", down=True)
_ACCOUNT = Outage("the FaceID account cannot be used", down=True)
_THROTTLED = Outage("Tencent throttled the call", down=True)
_FAILING = Outage("Tencent FaceID is failing", down=True)
_REFUSED = Outage("Tencent refused the request")
_UNREACHABLE = Outage("Tencent FaceID did not answer", down=True)
_MALFORMED = Outage("Tencent FaceID answered badly", down=True)

ERRORS: dict[str, Outage] = {
    "AuthFailure": _CREDENTIALS,
    "AuthFailure.InvalidAuthorization": _CREDENTIALS,
    "AuthFailure.InvalidSecretId": _CREDENTIALS,
    "AuthFailure.MFAFailure": _CREDENTIALS,
    "AuthFailure.SecretIdNotFound": _CREDENTIALS,
    "AuthFailure.SignatureExpire": _CREDENTIALS,
    "AuthFailure.SignatureFailure": _CREDENTIALS,
    "AuthFailure.TokenFailure": _CREDENTIALS,
    "AuthFailure.UnauthorizedOperation": _CREDENTIALS,
    "UnauthorizedOperation": _ACCOUNT,
    "UnauthorizedOperation.ActivateError": _ACCOUNT,
    "UnauthorizedOperation.Activating": _ACCOUNT,
    "UnauthorizedOperation.Arrears": _ACCOUNT,
    "UnauthorizedOperation.ChargeStatusException": _ACCOUNT,
    "UnauthorizedOperation.NonAuthorize": _ACCOUNT,
    "UnauthorizedOperation.Nonactivated": _ACCOUNT,
    "OperationDenied": _ACCOUNT,
    "RequestLimitExceeded": _THROTTLED,
    "RequestLimitExceeded.GlobalRegionUinLimitExceeded": _THROTTLED,
    "RequestLimitExceeded.IPLimitExceeded": _THROTTLED,
    "RequestLimitExceeded.UinLimitExceeded": _THROTTLED,
    "LimitExceeded": _THROTTLED,
    "InternalError": _FAILING,
    "InternalError.EncryptSystemError": _FAILING,
    "InternalError.UnKnown": _FAILING,
    "FailedOperation.DbError": _FAILING,
    "ServiceUnavailable": _FAILING,
    "ActionOffline": _FAILING,
    "InvalidAction": _FAILING,
    "NoSuchVersion": _FAILING,
    "UnsupportedProtocol": _FAILING,
    "UnsupportedRegion": _FAILING,
    "InvalidParameter": _REFUSED,
    "InvalidParameter.UnsupportEncryptField": _REFUSED,
    "InvalidParameterValue": _REFUSED,
    "MissingParameter": _REFUSED,
    "UnknownParameter": _REFUSED,
    "RequestSizeLimitExceeded": _REFUSED,
    "UnsupportedOperation": _REFUSED,
    # The SDK's own codes: no answer (timeout, lost connection), a status other than 200, a
    # body that is not the documented JSON.
    "ClientNetworkError": _UNREACHABLE,
    "ServerNetworkError": _FAILING,
    "JSONDecodeError": _MALFORMED,
    "KeyError": _MALFORMED,
    "TypeError": _MALFORMED,
    "AttributeError": _MALFORMED,
    "ValueError": _MALFORMED,
}

UNDOCUMENTED = Outage("Tencent FaceID answered an undocumented code", down=True)
"""A ``Result`` or ``Error.Code`` in no table, or none at all."""


def answer_for(table: Mapping[str, Answer], code: object, *, error: bool = False) -> Answer:
    """What ``code`` means for an operation with ``table``: its ``Result``, or (``error``) its
    ``Error.Code`` — never a pass; anything undocumented is an outage."""
    if not isinstance(code, str):
        return UNDOCUMENTED
    if code in table:
        answer = table[code]
        return UNDOCUMENTED if error and isinstance(answer, Match) else answer
    if error and code in ERRORS:
        return ERRORS[code]
    return UNDOCUMENTED
