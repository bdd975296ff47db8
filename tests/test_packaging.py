"""An installed wheel (not the checkout) carries the theme: `heliograph init` and `build` work from it."""

import contextlib
import http.server
import os
import re
import site
import subprocess
import sys
import sysconfig
import threading
import venv
from pathlib import Path

from conftest import REPO
from generator import __version__


def test_release_artifacts_pass_twine_and_the_wheel_inits_builds_and_checks_a_site(tmp_path):
    """What release.yml publishes: `python -m build` makes the sdist and (from it) the wheel, PyPI's
    metadata check passes both, and the installed wheel alone makes, builds and checks a site."""
    # Built from a copy: setuptools works in <source>/build/, which is the site's output folder here.
    source = tmp_path / "source"
    tracked = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "pyproject.toml", "README.md", "generator", "templates", ".github/workflows"],
                             cwd=REPO, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, tracked):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes((REPO / name).read_bytes())
    wheels = tmp_path / "dist"
    built = subprocess.run([sys.executable, "-m", "build", "--outdir", str(wheels), str(source)],
                           capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    artifacts = sorted(path.name for path in wheels.iterdir())
    assert artifacts == [f"heliograph-{__version__}-py3-none-any.whl", f"heliograph-{__version__}.tar.gz"]
    checked = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, wheels.iterdir())],
                             capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    environment = tmp_path / "venv"
    python, scripts = _venv_seeing_these_dependencies(environment)
    wheel = next(wheels.glob("heliograph-*.whl"))
    subprocess.run([python, "-m", "pip", "install", "--no-deps", "--force-reinstall", "-q", str(wheel)],
                   check=True, capture_output=True, cwd=tmp_path)
    located = subprocess.run([python, "-c", "import generator; print(generator.__file__)"], capture_output=True,
                             text=True, cwd=tmp_path, check=True).stdout
    assert str(environment) in located, "the wheel, not the checkout, must be imported"
    heliograph = scripts / f"heliograph{'.exe' if os.name == 'nt' else ''}"
    shown = subprocess.run([heliograph, "--version"], capture_output=True, text=True, cwd=tmp_path)
    assert shown.stdout.split() == ["heliograph,", "version", __version__], shown.stdout + shown.stderr
    site = tmp_path / "site"
    init = subprocess.run([heliograph, "init", str(site), "--title", "Wheel Status"], capture_output=True, text=True,
                          cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    assert sorted(p.name for p in (site / "templates").iterdir()) == ["_site_footer.html"]
    # The workflows ship inside the wheel, adapted for a site that installs Heliograph.
    workflows = sorted(p.name for p in (site / ".github" / "workflows").iterdir())
    assert workflows == ["check.yml", "deploy.yml", "test.yml"], workflows
    assert "pip install -r requirements.txt" in (site / ".github" / "workflows" / "check.yml").read_text()
    listed = subprocess.run([heliograph, "theme"], capture_output=True, text=True, cwd=site).stdout
    assert "base.html" in listed and "embed/" in listed  # the theme ships inside the wheel
    built = subprocess.run([heliograph, "build"], capture_output=True, text=True, cwd=site)
    assert built.returncode == 0, built.stderr
    index = (site / "build" / "index.html").read_text()
    assert "<title>Wheel Status</title>" in index
    assert (site / "build" / "assets" / "style.css").is_file() and (site / "build" / "embed" / "status.js").is_file()
    assert (site / "requirements.txt").read_text().splitlines()[-1] == f"heliograph=={__version__}"
    with _answering_server() as url:
        config = site / "site.yaml"
        config.write_text(config.read_text().replace("url: https://example.com/", f"url: {url}"))
        checked = subprocess.run([heliograph, "check", "--no-write"], capture_output=True, text=True, cwd=site,
                                 timeout=120)
    assert checked.returncode == 0, checked.stderr
    assert re.search(r"^website\s+up\b", checked.stdout, re.M), checked.stdout
    assert not (site / "history").exists() or not any((site / "history").rglob("*.jsonl")), "--no-write wrote"
    # What the Dockerfile's image runs (its CMD, for one round), from the wheel, pushing to a remote.
    from gitrun import clean_env, sh

    env = {**clean_env(tmp_path / "home"), "PATH": f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("PYTHONPATH", None)
    (tmp_path / "home").mkdir()
    remote = tmp_path / "remote.git"
    sh("git", "init", "--quiet", "--bare", "--initial-branch=main", str(remote), cwd=tmp_path, env=env)
    sh("git", "init", "--quiet", "--initial-branch=main", cwd=site, env=env)
    sh("git", "add", "-A", cwd=site, env=env)
    sh("git", "commit", "--quiet", "-m", "Start", cwd=site, env=env)
    sh("git", "remote", "add", "origin", str(remote), cwd=site, env=env)
    sh("git", "push", "--quiet", "origin", "main", cwd=site, env=env)
    command = _dockerfile_command()
    assert command[:1] == ["heliograph"] and "--push" in command
    with _answering_server() as url:
        config = site / "site.yaml"
        config.write_text(re.sub(r"url: http://127\.0\.0\.1:\d+/?", f"url: {url}", config.read_text()))
        sh("git", "commit", "--quiet", "-am", "Check the local server", cwd=site, env=env)
        ran = subprocess.run([str(heliograph), *command[1:], "--repeat", "1"], capture_output=True, text=True,
                             cwd=site, env=env, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert "Check results from" in sh("git", "--git-dir", str(remote), "log", "-1", "--format=%s", cwd=tmp_path, env=env)


def _dockerfile_command() -> list[str]:
    """ENTRYPOINT + CMD of the repository's Dockerfile (exec form)."""
    import json

    lines = (REPO / "Dockerfile").read_text().splitlines()
    entry = json.loads(next(line for line in lines if line.startswith("ENTRYPOINT ")).split(" ", 1)[1])
    cmd = json.loads(next(line for line in lines if line.startswith("CMD ")).split(" ", 1)[1])
    return entry + cmd


def test_the_dockerfile_builds_a_slim_non_root_image_from_the_wheel():
    """No Docker engine here: the Dockerfile's structure is what is checked. Its install (a wheel
    of this checkout, nothing else) and its command are run by the test above."""
    text = (REPO / "Dockerfile").read_text()
    froms = re.findall(r"(?m)^FROM (\S+)", text)
    assert froms and all(re.fullmatch(r"python:3\.\d+-slim", image.split(" ")[0]) for image in froms)  # pinned, no latest
    assert re.search(r"(?m)^RUN pip wheel .*--no-deps .*\.$", text)
    assert re.search(r"(?m)^RUN pip install --no-cache-dir /wheels/\*\.whl", text)
    users = re.findall(r"(?m)^USER (\S+)", text)
    assert users and users[-1] not in ("root", "0")
    assert text.index("USER ") < text.index("ENTRYPOINT")
    assert _dockerfile_command()[:3] == ["heliograph", "check", "--every"]
    ignored = (REPO / ".dockerignore").read_text().splitlines()
    assert ignored[1:2] == ["*"] or "*" in ignored  # only what the wheel is built from is sent
    assert {"!generator/", "!templates/", "!pyproject.toml"} <= set(ignored)


@contextlib.contextmanager
def _answering_server():
    """A real HTTP server on 127.0.0.1 that answers 200, for the site's website check."""
    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _venv_seeing_these_dependencies(environment: Path) -> tuple[Path, Path]:
    """A new venv (its python and scripts folder) that imports the dependencies installed where
    this test runs, offline, but not the checkout. Not system_site_packages: inside a venv that
    is the base interpreter's packages, not this environment's with the dependencies. A .pth
    file names this environment's package folders instead; the .pth files in those folders are
    not run, so the checkout's editable install is not seen."""
    venv.EnvBuilder(with_pip=False).create(environment)
    scripts, suffix = (environment / "Scripts", ".exe") if os.name == "nt" else (environment / "bin", "")
    python = scripts / f"python{suffix}"
    inside = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                            capture_output=True, text=True, check=True).stdout.strip()
    folders = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages(),
               *(entry for entry in sys.path if Path(entry).name in ("site-packages", "dist-packages"))]
    if site.ENABLE_USER_SITE:
        folders.append(site.getusersitepackages())
    unique = [folder for folder in dict.fromkeys(folders)
              if Path(folder).is_dir() and Path(folder).resolve() != REPO.resolve()]
    Path(inside, "parent-environment.pth").write_text("".join(f"{folder}\n" for folder in unique), encoding="utf-8")
    return python, scripts


def test_every_module_imports_first_in_a_fresh_process():
    """Forked children and lazy imports meet modules in any order: a large site's build/ child
    imported incident_loading before incidents, and a cycle between them failed the build."""
    package = REPO / "generator"
    modules = sorted(".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
                     for path in package.rglob("*.py") if path.name != "__main__.py")
    assert "generator.site.incident_loading" in modules and len(modules) > 40
    running = {module: subprocess.Popen([sys.executable, "-c", f"import {module}"], cwd=REPO,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for module in modules}
    failed = {module: process.communicate()[1].strip().splitlines()[-1:] for module, process in running.items()}
    assert {module: error for module, error in failed.items() if running[module].returncode} == {}
