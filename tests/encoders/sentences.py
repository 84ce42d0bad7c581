"""The fixed sentence set the encoder is checked on: English, Chinese, mixed, emoji, full-width, long."""

SENTENCES = [
    # English
    "The delivery was late but the courier was polite.",
    "Great service, will definitely order again!",
    "The refund took three weeks, which is unacceptable.",
    "not bad",
    "I waited 40 minutes on the hotline and nobody answered.",
    "The app crashes every time I try to pay.",
    "Product quality is excellent for the price.",
    "Why does shipping cost more than the item itself?",
    "Staff at the Shanghai store were super friendly :)",
    "OK.",
    "Meh.",
    "Absolutely terrible experience, never again!!!",
    "The package arrived on Tuesday.",
    "Don't buy this — it broke after 2 days.",
    "I can't say I'm disappointed.",
    "Five stars ★★★★★",
    # Chinese
    "快递很快，但是客服态度很差。",
    "不是很好",
    "质量非常好，物超所值！",
    "等了一个星期才到货，太慢了",
    "客服小姐姐很耐心，给个好评",
    "包装破损，里面的东西也坏了",
    "价格有点贵，不过质量还可以",
    "房间干净，服务周到，下次还来",
    "这款手机电池不耐用，一天要充三次电",
    "物流信息一直不更新，到底发货没有？",
    "好评",
    "差评！",
    "我昨天下午收到了包裹。",
    "酒店位置很好，离地铁站只有五分钟",
    "书的印刷质量一般，有错别字",
    "蒙牛的牛奶味道不错～",
    # mixed zh/en
    "这个app很好用 but it drains the battery",
    "客服 response 太慢了",
    "iPhone 15 的屏幕很清晰",
    "delivery 很快，五星好评 👍",
    "价格OK，quality一般",
    "WiFi信号不稳定，经常掉线",
    # emoji
    "👍👍👍",
    "😡😡😡 worst order ever",
    "Love it ❤️🔥",
    "收到了😊很喜欢",
    "🙄 again late",
    # full-width punctuation and forms
    "ＡＰＰ很好用！！！５星好评",
    "服务（一般），价格：偏高；质量——还行",
    "“包装”很精美，「赠品」也不错",
    "全角空格　在这里　出现",
    "Ｇｏｏｄ　ｑｕａｌｉｔｙ！",
    "数量：１２个，单价：￥９．９",
    # odd whitespace / controls
    "  leading and   multiple   spaces  ",
    "tab\tand\nnewline",
    # long texts (windows over 512 tokens)
    "第一次在这家店买东西。" + "商品质量还可以，物流速度一般，客服回复比较慢。" * 80,
    ("The product is fine but delivery was slow and support never replied. " * 30).strip(),
]
assert len(SENTENCES) >= 50
assert max(len(s) for s in SENTENCES) >= 2000
