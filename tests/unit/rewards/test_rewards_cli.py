"""`python -m techmarket.rewards`: JSON out on success; exit 2, a precise Chinese message, empty stdout otherwise."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from techmarket.rewards import RewardInputError, parse_input

ROOT = Path(__file__).resolve().parents[3]

EXAMPLE: dict[str, Any] = {
    "policy": "yanshi-2021",
    "year": 2021,
    "contracts": [
        {
            "id": "HT0001",
            "type": "技术转让（专利权）",
            "buyer": {"name": "偃师某机械有限公司", "credit_code": "91410381MA0000001A", "local": True},
            "seller": {"name": "某大学", "credit_code": "12100000400000004D", "local": False},
            "contract_amount": "3000000.00",
            "technology_amount": "1200000.00",
            "registered_on": "2021-03-10",
            "status": "registered",
            "subsidized": False,
            "payments": [
                {"paid_on": "2021-04-01", "amount": "1000000.00", "technology_amount": None, "evidence": True}
            ],
        }
    ],
    "institutions": [
        {
            "name": "偃师技术转移中心",
            "credit_code": "52410381MJ0000005E",
            "local": True,
            "level": "provincial",
            "recognized_on": "2021-06-01",
        }
    ],
    "prior_awards": [],
}


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "techmarket.rewards", *args],
        cwd=ROOT,
        input=None if stdin is None else stdin.encode("utf-8"),
        capture_output=True,
        timeout=30,
        check=False,
    )


def _file(tmp_path: Path, data: Any) -> str:
    path = tmp_path / "input.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), "utf-8")
    return str(path)


def test_example_file_prints_sorted_json(tmp_path: Path) -> None:
    proc = _cli(_file(tmp_path, EXAMPLE))
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    text = proc.stdout.decode("utf-8")
    assert "偃师某机械有限公司" in text  # ensure_ascii=False
    out = json.loads(text)
    assert (out["policy"], out["year"]) == ("yanshi-2021", 2021)
    # buyer: 1,000,000 × 1,200,000 ÷ 3,000,000 = 400,000 × 5% = 20,000.00; seller is not local: 0.00;
    # institution: new provincial 100,000.00; total 120,000.00
    assert [(a["kind"], a["recipient"], a["amount"]) for a in out["awards"]] == [
        ("buyer", "91410381MA0000001A", "20000.00"),
        ("seller", "12100000400000004D", "0.00"),
        ("institution", "52410381MJ0000005E", "100000.00"),
    ]
    assert out["total"] == "120000.00"
    line = out["awards"][0]["lines"][0]
    assert line == {
        "contract_id": "HT0001",
        "kind": "buyer",
        "base": "400000.00",
        "rate": "0.05",
        "computed": "20000.00",
        "amount": "20000.00",
        "note": line["note"],
    }
    assert line["note"].startswith("合同HT0001：本年度实现技术交易额 400,000.00 元 × 5% = 20,000.00 元")


def test_stdin_and_json_numbers_read_exactly() -> None:
    # 0.1 + 0.2 as floats would be 0.30000000000000004; parsed as Decimal: base 1000000.30 -> 5% = 50000.015 -> .02
    data = copy.deepcopy(EXAMPLE)
    c = data["contracts"][0]
    c.update(contract_amount=2000000.30, technology_amount=2000000.30)
    c["payments"] = [
        {"paid_on": "2021-04-01", "amount": 1000000.1, "technology_amount": None, "evidence": True},
        {"paid_on": "2021-05-01", "amount": 0.2, "technology_amount": None, "evidence": True},
    ]
    proc = _cli("-", stdin=json.dumps(data, ensure_ascii=False))
    assert proc.returncode == 0, proc.stderr.decode()
    line = json.loads(proc.stdout)["awards"][0]["lines"][0]
    assert (line["base"], line["amount"]) == ("1000000.30", "50000.02")


def _broken(path: list[Any], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(EXAMPLE)
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


CASES = [
    (_broken(["contracts", 0, "registered_on"], KeyError), "缺少必填字段 contracts[0].registered_on（登记日期）"),
    (
        _broken(["contracts", 0, "payments", 0, "paid_on"], "2021-02-30"),
        "contracts[0].payments[0].paid_on（付款日期）：日期无效：“2021-02-30”，应为 YYYY-MM-DD 格式的真实日期",
    ),
    (
        _broken(["contracts", 0, "payments", 0, "amount"], "-100.00"),
        "contracts[0].payments[0].amount（金额）：金额不能为负数，实际为 “-100.00”",
    ),
    (
        _broken(["policy"], "shanghai-2030"),
        "policy（奖励政策）：未知的奖励政策“shanghai-2030”，可用的政策：luoyang-2024、yanshi-2021",
    ),
]


@pytest.mark.parametrize(("data", "message"), CASES)
def test_invalid_input_exits_2_with_a_precise_chinese_message(tmp_path: Path, data: Any, message: str) -> None:
    proc = _cli(_file(tmp_path, data))
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert proc.stderr.decode("utf-8") == f"输入无效：{message}\n"


def test_unreadable_or_malformed_input(tmp_path: Path) -> None:
    missing = _cli(str(tmp_path / "nope.json"))
    assert (missing.returncode, missing.stdout) == (2, b"")
    assert "无法读取输入文件" in missing.stderr.decode()
    bad = _cli(_file(tmp_path, '{"year": 2021,'))
    assert (bad.returncode, bad.stdout) == (2, b"")
    assert "输入不是有效的 JSON（第 1 行第 15 列" in bad.stderr.decode()
    nothing = _cli()
    assert (nothing.returncode, nothing.stdout) == (2, b"")
    assert nothing.stderr.decode() == "输入无效：请指定输入 JSON 文件，或用“-”从标准输入读取\n"


def test_policy_file_and_list(tmp_path: Path) -> None:
    draft = json.loads((ROOT / "techmarket/rewards/policies/yanshi-2021.json").read_text("utf-8"))
    draft.update(id="xinan-2025", payer={"code": "xinan", "name": "新安县"})
    draft["buyer"]["rate"] = "0.03"
    policy = tmp_path / "xinan-2025.json"
    policy.write_text(json.dumps(draft, ensure_ascii=False), "utf-8")
    proc = _cli(_file(tmp_path, EXAMPLE), "--policy-file", str(policy))
    assert proc.returncode == 0, proc.stderr.decode()
    out = json.loads(proc.stdout)
    assert out["policy"] == "xinan-2025"
    assert out["awards"][0]["amount"] == "12000.00"  # 400,000 × 3%
    listed = json.loads(_cli("--list-policies").stdout)
    assert [p["id"] for p in listed] == ["luoyang-2024", "yanshi-2021"]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            ["contracts", 0, "payments", 0, "amount"],
            "100.005",
            "contracts[0].payments[0].amount（金额）：金额最多两位小数",
        ),
        (["contracts", 0, "contract_amount"], "三百万", "contracts[0].contract_amount（成交额）：应为以元为单位的金额"),
        (["contracts", 0, "technology_amount"], "3000000.01", "技术交易额 3000000.01 大于成交额 3000000.00"),
        (
            ["contracts", 0, "status"],
            "approved",
            "contracts[0].status（合同状态）：应为 registered | terminated | revoked",
        ),
        (["contracts", 0, "type"], "专利转让", "contracts[0].type（合同类型）：应以 技术开发、技术转让"),
        (["contracts", 0, "buyer", "local"], "yes", "contracts[0].buyer.local（是否本市单位）：应为 true 或 false"),
        (
            ["contracts", 0, "seller", "credit_code"],
            KeyError,
            "缺少必填字段 contracts[0].seller.credit_code（统一社会信用代码）",
        ),
        (
            ["institutions", 0, "level"],
            "city",
            "institutions[0].level（认定级别）：应为 national | provincial | luoyang",
        ),
        (["year"], "2021", "year（奖励年度）：应为 1990 到 2100 之间的整数年份"),
        (["year"], KeyError, "缺少必填字段 year（奖励年度）"),
        (["contracts"], {}, "contracts（技术合同列表）：应为列表"),
        (
            ["prior_awards"],
            [
                {
                    "recipient": "X",
                    "kind": "buyer",
                    "contract_id": "HT0001",
                    "year": 2020,
                    "source": "beijing",
                    "amount": 1,
                }
            ],
            "prior_awards[0].source（发放方）：应为 yanshi | luoyang 之一",
        ),
        (
            ["prior_awards"],
            [{"recipient": "X", "kind": "buyer", "year": 2020, "source": "yanshi", "amount": 1}],
            "缺少必填字段 prior_awards[0].contract_id（合同编号）",
        ),
        (
            ["contracts", 0, "payments", 0, "technology_amount"],
            "1000000.01",
            "contracts[0].payments[0].technology_amount（本次实现技术交易额）：1000000.01 大于本次付款金额 1000000.00",
        ),
    ],
)
def test_parse_input_errors(path: list[Any], value: Any, message: str) -> None:
    with pytest.raises(RewardInputError) as err:
        parse_input(_broken(path, value))
    assert message in str(err.value)


def test_duplicate_contract_ids_and_inconsistent_local_flags() -> None:
    data = copy.deepcopy(EXAMPLE)
    data["contracts"].append(copy.deepcopy(data["contracts"][0]))
    with pytest.raises(RewardInputError, match=r"contracts\[1\]\.id（合同编号）：与 contracts\[0\] 重复：HT0001"):
        parse_input(data)
    data["contracts"][1]["id"] = "HT0002"
    data["contracts"][1]["buyer"]["local"] = False
    with pytest.raises(RewardInputError, match="前后不一致"):
        parse_input(data)
