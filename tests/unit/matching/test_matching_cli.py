"""``python -m matching rank``."""

import json
import subprocess
import sys
from pathlib import Path

from matching.cli import main

ROOT = Path(__file__).resolve().parents[3]


def write(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows))
    return str(path)


SUPPLIES = [
    {"id": "S1", "title": "重载码垛机器人及垛型自动规划", "description": "袋装物料托盘码垛", "field": "先进制造"},
    {"id": "S2", "title": "微孔轻质莫来石隔热耐火砖", "description": "窑衬隔热，降低燃气消耗", "keywords": ["隔热砖"]},
    {"id": 3, "title": "刀具磨损在线监测", "description": "车刀崩刃报警"},
]
DEMANDS = [
    {"id": "D1", "title": "面粉袋子往托盘上摞，工人太累", "description": ""},
    {"id": "D2", "title": "周末去公园散步", "description": "天气很好", "field": None},
]


def test_rank_prints_one_line_per_need(tmp_path, capsys):
    code = main(["rank", "--supplies", write(tmp_path / "s.jsonl", SUPPLIES),
                 "--demands", write(tmp_path / "d.jsonl", DEMANDS), "--top", "2"])  # fmt: skip
    assert code == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["demand_id"] for x in lines] == ["D1", "D2"]
    first = lines[0]
    assert not first["no_match"] and first["matches"][0]["supply_id"] == "S1"
    assert set(first["matches"][0]) == {"supply_id", "score", "terms"}
    assert "码垛" in first["matches"][0]["terms"]
    assert lines[1]["no_match"] is True and lines[1]["matches"] == []


def test_malformed_line_is_reported_with_its_number(tmp_path, capsys):
    demands = write(tmp_path / "d.jsonl", [DEMANDS[0], "", '{"id": "D3", "title": 7}'])
    code = main(["rank", "--supplies", write(tmp_path / "s.jsonl", SUPPLIES), "--demands", demands])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert f"{demands}:3:" in err and "title" in err


def test_module_entry_point_rejects_broken_json(tmp_path):
    supplies = write(tmp_path / "s.jsonl", [SUPPLIES[0], "{not json"])
    demands = write(tmp_path / "d.jsonl", DEMANDS)
    proc = subprocess.run(
        [sys.executable, "-m", "matching", "rank", "--supplies", supplies, "--demands", demands],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 2 and proc.stdout == ""
    assert f"{supplies}:2:" in proc.stderr
