"""A synthetic corpus with the platform's vocabulary, for the benchmark.

Achievements are written in researcher style from technical terms of the
concept lexicon and the user dictionary; needs in plain words from the
colloquial variants.  Deterministic for a given seed.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from matching import FIELDS, Document
from matching.text import load_lexicon

QUALIFIERS = (
    "高效 低成本 长寿命 轻量化 智能 绿色 高精度 大型 新型 模块化 低能耗 高可靠 柔性 节能型 数字化 一体化 复合"
).split()
ACTIONS = (
    "在线检测技术 智能控制系统 优化设计 节能改造技术 制备技术 再制造技术 精密加工工艺 故障诊断方法 自动化生产线 "
    "回收利用技术 绿色工艺 质量追溯系统 状态监测装置 关键部件 成套装备 表面处理工艺 配方设计 快速检测方法"
).split()
PROBLEMS = (
    "能耗高 寿命短 效率低 精度差 污染重 人工依赖大 故障率高 废品率高 噪声大 成本高 稳定性差 排放超标 "
    "劳动强度大 材料浪费 质量波动"
).split()
METHODS = (
    "多物理场耦合建模 深度学习算法 新型复合材料 工艺参数优化 模块化结构设计 在线传感与反馈控制 "
    "高温烧结工艺 激光表面强化 余热梯级利用 物联网数据采集 数值模拟与试验验证 绿色催化体系"
).split()
EFFECTS = (
    "能耗降低20%以上 使用寿命提高一倍 生产效率提高30% 产品合格率达到99% 排放满足超低排放要求 "
    "减少用工50% 材料利用率提高10% 运行成本显著下降 故障停机时间减少60% 检测精度达到0.01mm"
).split()
COMPLAINTS = (
    "老是出问题 太费钱 工人干不动 招不到人 客户老退货 环保老来查 电费太高 坏得太快 太慢了 浪费太大 "
    "味道大 灰太大 声音太吵 一直不稳定"
).split()
WISHES = ("想找个办法", "有没有好的技术", "想上个自动的", "想找高校合作", "看看有没有现成的成果", "预算几十万")


class Synth:
    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        lex = load_lexicon()
        self.technical = sorted({c for cs in lex.concepts.values() for c in cs} | set(lex.userwords))
        self.colloquial = sorted(k for k in lex.concepts if len(k) >= 2)
        self.fields = list(FIELDS)

    def achievement(self, i: int) -> Document:
        r = self.rng
        a, b = r.sample(self.technical, 2)
        title = f"{r.choice(QUALIFIERS)}{a}{r.choice(ACTIONS)}"
        sents = [
            f"针对{a}{r.choice(PROBLEMS)}、{r.choice(PROBLEMS)}的问题，采用{r.choice(METHODS)}与{b}相结合的方法，"
            f"研制{r.choice(QUALIFIERS)}{a}{r.choice(ACTIONS)}。",
            f"经企业应用验证，{r.choice(EFFECTS)}，{r.choice(EFFECTS)}，适用于{r.choice(self.technical)}、"
            f"{r.choice(self.technical)}等行业。",
        ]
        if r.random() < 0.5:
            sents.append(f"已获授权发明专利{r.randint(1, 9)}项，可提供{r.choice(self.technical)}技术服务。")
        return Document(f"S{i:06d}", title, "".join(sents), r.choice(self.fields))

    def need(self, i: int) -> Document:
        r = self.rng
        c1, c2 = r.sample(self.colloquial, 2)
        title = f"{c1}{r.choice(COMPLAINTS)}"
        desc = f"我们厂{c1}和{c2}{r.choice(COMPLAINTS)}，{r.choice(WISHES)}。"
        return Document(f"D{i:06d}", title, desc, r.choice(self.fields) if r.random() < 0.8 else None)

    def achievements(self, n: int) -> list[Document]:
        return [self.achievement(i) for i in range(n)]

    def needs(self, n: int) -> list[Document]:
        return [self.need(i) for i in range(n)]


if __name__ == "__main__":
    s = Synth()
    for d in s.achievements(3) + s.needs(3):
        print(d)
