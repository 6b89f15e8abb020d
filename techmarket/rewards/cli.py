"""`python -m techmarket.rewards INPUT.json`: the calculator outside the web app.

Prints the result as JSON on stdout. Invalid input: a Chinese message on stderr, nothing on stdout,
exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from typing import Any, NoReturn

from .calculator import calculate
from .parse import RewardInputError, parse_input, result_to_dict
from .policy import Policy, PolicyError, available_policies, load_policy, load_policy_file

EXIT_INVALID = 2


_ARGPARSE_ZH = {
    "unrecognized arguments:": "无法识别的参数：",
    "expected one argument": "需要一个参数值",
    "the following arguments are required:": "缺少参数：",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        for english, chinese in _ARGPARSE_ZH.items():
            message = message.replace(english, chinese)
        _write(sys.stderr, f"参数错误：{message}\n用法：{self.format_usage().removeprefix('usage: ')}")
        raise SystemExit(EXIT_INVALID)


def _write(stream: Any, text: str) -> None:
    """UTF-8 whatever the locale, so the Chinese survives LANG=C and pipes."""
    stream.buffer.write(text.encode("utf-8"))
    stream.flush()


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m techmarket.rewards",
        description="按奖励政策（默认 偃政〔2021〕2号）计算技术合同买方、卖方及技术转移示范机构奖励，以 JSON 输出。",
        add_help=True,
    )
    parser.add_argument("input", nargs="?", help="输入 JSON 文件；“-”表示从标准输入读取")
    parser.add_argument("--policy-file", metavar="PATH", help="使用指定的政策 JSON 文件（例如新城市政策草稿）")
    parser.add_argument("--list-policies", action="store_true", help="列出内置的奖励政策")
    return parser


def _reject_constant(name: str) -> Any:
    raise RewardInputError(f"输入包含不支持的数值 {name}")


def _read(source: str) -> Any:
    try:
        if source == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(source, "rb") as f:
                raw = f.read()
    except OSError as exc:
        raise RewardInputError(f"无法读取输入文件 {source}：{exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RewardInputError("输入不是 UTF-8 编码的文本") from None
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise RewardInputError(f"输入不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}）") from None


def _policies() -> list[dict[str, Any]]:
    out = []
    for policy_id in available_policies():
        p = load_policy(policy_id)
        out.append({"id": p.id, "title": p.title, "document": p.document.get("number")})
    return out


def main(argv: list[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    try:
        if args.list_policies:
            payload: Any = _policies()
        else:
            if args.input is None:
                raise RewardInputError("请指定输入 JSON 文件，或用“-”从标准输入读取")
            policy: Policy | None = load_policy_file(args.policy_file) if args.policy_file else None
            data = parse_input(_read(args.input), policy)
            payload = result_to_dict(calculate(data, policy))
    except (RewardInputError, PolicyError) as exc:
        _write(sys.stderr, f"输入无效：{exc}\n")
        return EXIT_INVALID
    _write(sys.stdout, json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    return 0
