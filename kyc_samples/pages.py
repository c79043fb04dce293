"""Organization documents on A4: a power of attorney (授权委托书) and a business licence
(营业执照), each with a red official seal pressed on it unless told otherwise."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

from PIL import Image, ImageDraw

from kyc_samples.fonts import TEXT_COLOUR, font
from kyc_samples.id_cards import emblem
from kyc_samples.people import person
from kyc_samples.seals import COMPANY, red_seal, stamped

USCC = "91110105MA01ABCD2X"


def _paragraph(
    draw: ImageDraw.ImageDraw, at: tuple[float, float], text: str, size: int, width: float
) -> float:
    """Write ``text`` wrapped to ``width`` pixels from ``at``; return the y under it."""
    x, y = at
    line = ""
    for character in text:
        if draw.textlength(line + character, font=font(size)) > width:
            draw.text((x, y), line, fill=TEXT_COLOUR, font=font(size))
            y, line = y + round(size * 1.7), ""
        line += character
    draw.text((x, y), line, fill=TEXT_COLOUR, font=font(size))
    return y + round(size * 1.7)


def _signature(
    draw: ImageDraw.ImageDraw, at: tuple[float, float], length: float, seed: int
) -> None:
    """A hand signature: a loose looping scribble in dark ink ``length`` pixels long."""
    rng = random.Random(seed)
    x, y = at
    loops, phase = rng.uniform(3, 6), rng.uniform(0, math.pi)
    points = []
    for step in range(60):
        t = step / 59
        wobble = 0.1 * length * math.sin(2 * math.pi * loops * t + phase)
        points.append(
            (x + length * t + 0.04 * length * math.cos(2 * math.pi * loops * t), y - wobble)
        )
    draw.line(points, fill=(25, 30, 60), width=max(2, round(length / 70)), joint="curve")


def _seal_on(
    sheet: Image.Image,
    at: tuple[float, float],
    px_per_mm: float,
    seal: Image.Image | None,
    opacity: float,
    seal_kwargs: dict[str, object],
) -> Image.Image:
    """Press ``seal`` (or a red seal, 40 mm unless ``diameter`` says) at shares ``at``."""
    if seal is None:
        diameter = seal_kwargs.pop("diameter", round(40 * px_per_mm))
        seal = red_seal(int(diameter), **seal_kwargs)  # type: ignore[arg-type]
    centre = (at[0] * sheet.width, at[1] * sheet.height)
    return stamped(sheet, seal, centre, opacity)


def power_of_attorney(
    company: str = COMPANY,
    agent_name: str = "李娜",
    sealed: bool = True,
    px_per_mm: float = 4.0,
    seed: int = 0,
    seal: Image.Image | None = None,
    at: tuple[float, float] = (0.64, 0.72),
    opacity: float = 1.0,
    agent_id: str | None = None,
    **seal_kwargs: object,
) -> Image.Image:
    """Draw a power of attorney (授权委托书) on a portrait A4 page.

    The company authorizes ``agent_name`` (ID number ``agent_id``, a made-up one unless
    given); signature lines are signed. When ``sealed`` a
    red seal (``seal_kwargs`` go to :func:`red_seal`, ``diameter`` in pixels, 40 mm by
    default) is pressed centred at ``at`` (shares of the page's width and height),
    over the company's signature line; ``seal`` (any RGBA stamp, e.g. a distractor) is
    pressed there instead when given, even when not ``sealed``.
    """
    rng = random.Random(seed)
    width, height = round(210 * px_per_mm), round(297 * px_per_mm)
    sheet = Image.new("RGB", (width, height), (250, 250, 247))
    draw = ImageDraw.Draw(sheet)
    margin, size = round(25 * px_per_mm), max(10, round(4.2 * px_per_mm))
    title = font(round(size * 1.9))
    draw.text((width / 2, margin), "授权委托书", fill=TEXT_COLOUR, font=title, anchor="mt")
    agent_id = agent_id or person(seed).id_number
    start = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 300))
    body = [
        "致：企业实名认证服务机构",
        f"兹授权{agent_name}（身份证号码：{agent_id}）为我单位合法代理人，代表我单位"
        "办理企业实名认证及相关资料提交事宜。代理人在办理上述事项过程中所签署的"
        "文件及处理的相关事务，我单位均予以承认，并承担相应的法律责任。",
        f"委托期限：自{start:%Y年%m月%d日}起至{start.year + 1}年{start.month}月"
        f"{start.day}日止。代理人无转委托权。",
        "特此授权。",
    ]
    y = margin + 4 * size
    for text in body:
        y = _paragraph(draw, (margin, y), text, size, width - 2 * margin) + size
    y = max(y, round(0.66 * height))
    lines = [f"委托单位（盖章）：{company}", "法定代表人（签字）：", "受托人（签字）："]
    for index, line in enumerate(lines):
        line_y = y + index * 3 * size
        draw.text((width * 0.42, line_y), line, fill=TEXT_COLOUR, font=font(size))
        if index:
            _signature(draw, (width * 0.68, line_y + size), width * 0.16, seed + index)
    draw.text(
        (width * 0.42, y + 9 * size),
        f"日期：{start:%Y年%m月%d日}",
        fill=TEXT_COLOUR,
        font=font(size),
    )
    if sealed or seal is not None:
        sheet = _seal_on(sheet, at, px_per_mm, seal, opacity, {"seed": seed, **seal_kwargs})
    return sheet


def business_licence(
    name: str = COMPANY,
    uscc: str = USCC,
    representative: str = "王伟",
    sealed: bool = True,
    landscape: bool = True,
    px_per_mm: float = 4.0,
    seed: int = 0,
    seal: Image.Image | None = None,
    at: tuple[float, float] | None = None,
    opacity: float = 1.0,
    **seal_kwargs: object,
) -> Image.Image:
    """Draw a business licence (营业执照) on an A4 page, landscape unless told.

    A decorative frame, the national emblem (a red disc) at the top, the title, the
    entity's name, USCC and legal representative among the usual fields, and the
    registration authority's red seal (``seal_kwargs`` as :func:`power_of_attorney`)
    over its name at the bottom right when ``sealed``.
    """
    rng = random.Random(seed)
    size_mm = (297, 210) if landscape else (210, 297)
    width, height = round(size_mm[0] * px_per_mm), round(size_mm[1] * px_per_mm)
    sheet = Image.new("RGB", (width, height), (250, 248, 240))
    draw = ImageDraw.Draw(sheet)
    frame_colour = (150, 120, 70)
    for inset, line in ((8, 3), (11, 1)):
        edge = round(inset * px_per_mm)
        draw.rectangle(
            (edge, edge, width - edge, height - edge),
            outline=frame_colour,
            width=max(1, round(line * px_per_mm / 4)),
        )
    emblem(draw, (width / 2, 0.12 * height), 0.05 * min(width, height))
    title = font(round(0.07 * min(width, height)))
    draw.text((width / 2, 0.2 * height), "营业执照", fill=TEXT_COLOUR, font=title, anchor="mt")
    size = max(10, round(4.2 * px_per_mm))
    left = round(0.16 * width)
    draw.text((left, 0.1 * height), f"统一社会信用代码 {uscc}", fill=TEXT_COLOUR, font=font(size))
    founded = date(2005, 1, 1) + timedelta(days=rng.randrange(0, 6000))
    fields = [
        ("名称", name),
        ("类型", "有限责任公司（自然人投资或控股）"),
        ("法定代表人", representative),
        ("经营范围", "技术开发、技术咨询、技术服务；软件开发；数据处理。"),
        ("注册资本", f"{rng.randint(1, 500) * 10}万元"),
        ("成立日期", f"{founded:%Y年%m月%d日}"),
        ("住所", "北京市朝阳区建国路88号"),
    ]
    y = 0.36 * height
    for label, value in fields:
        draw.text((left, y), f"{label}　{value}", fill=TEXT_COLOUR, font=font(size))
        y += 2.1 * size
    issued = founded + timedelta(days=rng.randrange(0, 3000))
    bottom = 0.8 * height
    draw.text((0.6 * width, bottom), "登记机关", fill=TEXT_COLOUR, font=font(round(1.3 * size)))
    draw.text(
        (0.6 * width, bottom + 2 * size),
        f"{issued:%Y年%m月%d日}",
        fill=TEXT_COLOUR,
        font=font(size),
    )
    if sealed or seal is not None:
        kwargs = {"seed": seed, **seal_kwargs}
        kwargs.setdefault("diameter", round(42 * px_per_mm))
        kwargs.setdefault("text", "北京市朝阳区市场监督管理局")
        spot = at or (0.66, 0.8)
        sheet = _seal_on(sheet, spot, px_per_mm, seal, opacity, kwargs)
    return sheet
