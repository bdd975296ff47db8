"""An installed wheel (not the checkout) carries the theme: `heliograph init` and `build` work from it."""

import os
import site
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

from conftest import REPO


def test_wheel_install_inits_and_builds_a_site(tmp_path):
    # Built from a copy: setuptools works in <source>/build/, which is the site's output folder here.
    source = tmp_path / "source"
    tracked = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "pyproject.toml", "README.md", "generator", "templates"],
                             cwd=REPO, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, tracked):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes((REPO / name).read_bytes())
    wheels = tmp_path / "wheels"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(source)],
                           capture_output=True, text=True, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    environment = tmp_path / "venv"
    python, scripts = _venv_seeing_these_dependencies(environment)
    wheel = next(wheels.glob("heliograph-*.whl"))
    subprocess.run([python, "-m", "pip", "install", "--no-deps", "--force-reinstall", "-q", str(wheel)],
                   check=True, capture_output=True, cwd=tmp_path)
    located = subprocess.run([python, "-c", "import generator; print(generator.__file__)"], capture_output=True,
                             text=True, cwd=tmp_path, check=True).stdout
    assert str(environment) in located, "the wheel, not the checkout, must be imported"
    heliograph = scripts / f"heliograph{'.exe' if os.name == 'nt' else ''}"
    site = tmp_path / "site"
    init = subprocess.run([heliograph, "init", str(site), "--title", "Wheel Status"], capture_output=True, text=True,
                          cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    assert (site / "templates" / "base.html").is_file() and (site / "templates" / "embed").is_dir()
    built = subprocess.run([heliograph, "build"], capture_output=True, text=True, cwd=site)
    assert built.returncode == 0, built.stderr
    index = (site / "build" / "index.html").read_text()
    assert "<title>Wheel Status</title>" in index
    assert (site / "build" / "assets" / "style.css").is_file() and (site / "build" / "embed" / "status.js").is_file()


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
