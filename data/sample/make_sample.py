"""Write ``survey_sample.csv``: SAMPLE DATA, written for cxtext's demo and tests (not real customers).

A post-purchase NPS survey export of an online shop selling in China and abroad: id, created_at,
channel, nps_score, comment.  Comments are composed from hand-written clauses in Chinese and English
(plus a few mixed-language, emoji, empty and long ones, as real exports have); the score follows the
comment's tone with some noise.  Deterministic: ``python data/sample/make_sample.py`` rewrites the same file.
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path

POS_EN = [
    "The parcel arrived two days early", "Delivery was fast and the box was intact",
    "The courier was very polite", "Customer service solved my problem in five minutes",
    "Great quality for the price", "The jacket fits perfectly", "Easy to order on the app",
    "Refund was processed the same day", "The support agent was patient and friendly",
    "Excellent build quality, feels premium", "Good value, I will buy again",
    "Checkout was quick and simple", "Packaging was neat and eco-friendly",
]
NEG_EN = [
    "The parcel arrived a week late", "Nobody answered the hotline for 40 minutes",
    "The screen cracked after two days", "I was charged twice for one order",
    "The app keeps crashing at checkout", "The refund still has not arrived after three weeks",
    "The courier left the box in the rain", "Way too expensive for what you get",
    "The size chart is wrong, the shirt is tiny", "The agent hung up on me",
    "Tracking has not updated for six days", "The item was missing from the box",
    "Terrible quality, the seams came apart",
]
NEU_EN = [
    "I ordered a phone case and a charger", "The package came on Tuesday",
    "I paid by credit card", "I used the app to place the order", "It is my second order this year",
    "Delivery took four days", "I contacted support by email",
]
POS_ZH = [
    "物流很快，第二天就到了", "快递小哥态度很好", "客服很耐心，问题很快就解决了", "质量很好，做工精细",
    "性价比很高，下次还会买", "包装很严实，没有任何破损", "衣服很合身，颜色也正", "退款很及时，当天就到账了",
    "app用起来很方便", "东西跟描述的一样，很满意", "味道不错，家里人都喜欢", "发货速度很快",
]
NEG_ZH = [
    "快递太慢了，等了一个星期", "客服态度很差，问什么都不回答", "质量太差，用了两天就坏了",
    "价格太贵了，不值这个钱", "包装破损，里面的东西也压坏了", "退款申请了半个月还没到账",
    "app老是闪退，付款都付不了", "尺码偏小，穿不上", "收到的货和图片完全不一样", "被重复扣款了，很生气",
    "物流信息一直不更新", "快递员态度恶劣，直接把东西扔在门口",
]
NEU_ZH = [
    "我买的是一个手机壳和一根数据线", "周二收到的快递", "用信用卡付的款", "这是我今年第二次下单",
    "快递用了四天", "我通过邮件联系了客服",
]
CONNECT_EN = [", but ", ". However, ", ", although ", ", and "]
CONNECT_ZH = ["，但是", "，不过", "，而且", "。可是"]
SPECIAL = [
    ("", 7), ("👍👍👍", 10), ("😡😡", 1), ("N/A", 8), ("物流很快 but the packaging was damaged", 6),
    ("整体还行吧 overall ok", 7), ("客服 response was slow 但是最后解决了", 7),
    ("ＡＰＰ很好用！！！５星好评", 10), ("not bad", 8), ("不是很好", 4),
    ("The product is fine. " * 40 + "But delivery was slow.", 6),
    ("第一次在这家店买东西。" + "商品质量还可以，物流速度一般，客服回复比较慢。" * 25, 6),
]
CHANNELS = ["app", "email", "sms", "web"]


def _score(tone: str, rng: random.Random) -> int:
    base = {"pos": (8, 10), "neg": (0, 5), "neu": (6, 8), "mix": (5, 8)}[tone]
    s = rng.randint(*base)
    return min(10, max(0, s + (rng.choice([-2, 2]) if rng.random() < 0.1 else 0)))


def make_rows(n: int = 300, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    start = datetime(2026, 9, 1, 8, 0, 0)
    rows = []
    for i in range(n):
        zh = rng.random() < 0.5
        pos, neg, neu = (POS_ZH, NEG_ZH, NEU_ZH) if zh else (POS_EN, NEG_EN, NEU_EN)
        kind = rng.choices(["pos", "neg", "neu", "mix"], weights=[4, 3, 1, 2])[0]
        if kind == "mix":
            a, b = rng.choice(pos), rng.choice(neg)
            if rng.random() < 0.5:
                a, b = b, a
            conn = rng.choice(CONNECT_ZH if zh else CONNECT_EN)
            text = a + conn + (b if zh else b[0].lower() + b[1:]) + ("。" if zh else ".")
        else:
            pool = {"pos": pos, "neg": neg, "neu": neu}[kind]
            parts = rng.sample(pool, k=1 if kind == "neu" else rng.choice([1, 1, 2]))
            text = ("，".join(parts) + "。") if zh else (". ".join(parts) + ".")
        rows.append({"text": text, "score": _score(kind, rng)})
    for text, score in SPECIAL:
        rows.insert(rng.randrange(len(rows)), {"text": text, "score": score})
    out = []
    for i, r in enumerate(rows):
        created = start + timedelta(minutes=int(i * 431 + rng.randint(0, 400)))
        out.append({"id": f"S{10001 + i}", "created_at": created.isoformat(timespec="seconds"),
                    "channel": rng.choice(CHANNELS), "nps_score": r["score"], "comment": r["text"]})
    return out


def main() -> None:
    path = Path(__file__).with_name("survey_sample.csv")
    rows = make_rows()
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {path} ({len(rows)} rows)")


if __name__ == "__main__":
    main()
