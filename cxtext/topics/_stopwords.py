"""Stop words for topic words: English (scikit-learn's list plus feedback filler) and Chinese function words."""

from __future__ import annotations

EXTRA_EN = frozenset("""
also just really very much got get gets getting one two ve ll don didn doesn isn wasn won im ive
would could should will can may might us let lot lots thing things still even ever though although
""".split())

ZH = frozenset("""
的 了 是 我 你 他 她 它 我们 你们 他们 她们 它们 这 那 这个 那个 这些 那些 这样 那样 这么 那么 这里 那里
也 都 就 还 又 再 才 只 很 太 挺 最 更 非常 比较 特别 十分 真的 真是 实在 有点 有些 一点 一些 一下 一直 一个 一次
在 有 和 与 及 以及 或 或者 而 而且 并且 但 但是 可是 不过 然而 因为 所以 如果 虽然 即使 就是 还是 只是 于是
啊 吧 呢 吗 哦 呀 啦 嘛 哈 哈哈 嗯 哎 唉 噢 喔 么 之 其 该 被 把 给 让 对 向 从 到 于 为 为了 以 用 由 跟 比
着 过 地 得 所 等 等等 没 没有 不 不是 不会 不能 不要 不用 会 能 能够 可以 要 想 觉得 感觉 认为 知道 应该 已经
什么 怎么 怎么样 为什么 哪 哪里 谁 多少 几 个 次 些 上 下 里 中 内 外 前 后 时 时候 现在 之后 以后 之前 以前
自己 大家 人家 别人 东西 事情 还有 然后 其实 总之 反正 而已 罢了 起来 出来 下来 上来 过来 回来 一样 一般
今天 昨天 明天 真 好像 可能 比如 例如 通过 关于 对于 按照 根据 如此 另外 此外 并 并不 并没有 还会 还要
不了 老是 总是 每次 几次 几天 又是 居然 竟然 完全 根本 直接 简直 确实 特 超 超级 蛮 比较 稍微 终于 马上
""".split())
