"""Alibaba Cloud ID Verification (Cloudauth) adapters: entry points named ``alibaba``.

Three verifier ports over the official SDK (``pip install "kyc-service[alibaba]"``):

- ``kyc.identity_authorities``: ``Id2MetaVerify`` (name + resident ID number);
- ``kyc.bank_verifiers``: ``BankMetaVerify``, ``BANK_CARD_4_META`` (card, name, ID number,
  bank-reserved phone);
- ``kyc.business_registries``: ``EntElementVerify``, ``ENT_3META`` (entity name, USCC,
  legal representative's name).

Settings (the provider's, under each port's own; see ``client.settings_of``):
``KYC_ALIBABA_ACCESS_KEY_ID``, ``KYC_ALIBABA_ACCESS_KEY_SECRET``, ``KYC_ALIBABA_REGION``,
``KYC_ALIBABA_ENDPOINT`` (default ``cloudauth.aliyuncs.com``, HTTPS; plain HTTP only to a
loopback address), ``KYC_ALIBABA_SCENE_CODE`` (registry) and ``KYC_<PORT>_TIMEOUT``.
Every answer maps through the documented tables of ``codes``; anything else is an outage.
"""
