def test_the_host_columns_stay_visible_on_an_80_column_terminal():
    import json
    from pathlib import Path

    from rich.console import Console

    from kwizard.headless.preflight_table import render_json

    data = json.loads((Path(__file__).parents[1] / "fixtures" / "preflight" / "lab-default.json").read_text())
    console = Console(width=80, record=True, force_terminal=False)
    console.print(render_json(data))
    header = next(line for line in console.export_text().splitlines() if line.strip().startswith("check"))
    assert all(name in header for name in ("lab1", "lab2", "lab3", "lab4", "lab5"))


def test_a_log_or_pipe_gets_a_plain_greppable_layout(tmp_path):
    """Headless output to a file: one row per check, one line per problem, no rich wrapping at 80 columns."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import REPO, kwizard_env

    fixture = Path(__file__).parents[1] / "fixtures" / "preflight" / "lab-default.json"
    data = json.loads(fixture.read_text())
    probe = (
        "import json, sys\n"
        "from kwizard.protocol.phase import Event\n"
        "from kwizard.headless.console import HeadlessConsole\n"
        f"data = json.loads(open({str(fixture)!r}).read())\n"
        "HeadlessConsole().observe(Event('preflight_report', 'preflight', None, data, 0.0))\n"
    )
    env = {k: v for k, v in kwizard_env().items() if k != "COLUMNS"}
    out = tmp_path / "log.txt"
    with out.open("w") as handle:  # a file, as in CI: not a terminal
        subprocess.run(
            [sys.executable, "-c", probe], stdout=handle, env=env, cwd=REPO, timeout=60, check=True
        )
    lines = out.read_text().splitlines()
    checks = len(data["checks"]) if "checks" in data else None
    assert lines[0].startswith("Preflight: ")
    assert lines[1].split()[:6] == ["check", "lab1", "lab2", "lab3", "lab4", "lab5"]
    assert any(line.split()[:4] == ["python", "ok", "ok", "FAIL"] for line in lines)
    problems = [line for line in lines if line.startswith(("FAIL", "warn"))]
    assert any(line.startswith("FAIL python lab3: observed ") and "fix: " in line for line in problems)
    assert any(line.startswith("FAIL ip_forward lab5: ") for line in problems)
    assert len(lines) < 60, len(lines)  # was ~150 lines with words split mid-path
    if checks is not None:
        assert len(lines) == 2 + checks + len(problems)
