"""Build hook: bundle libember into the wheel.

`pip install ./bindings/python` needs the shared library next to the Python code. It takes,
in order: the file named by EMBER_LIBRARY (an already built libember.so), or it builds the
library from this checkout with CMake (library only, Release) and bundles the result. The
build needs what scripts/install-deps installs.
"""
import glob
import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def _built_library():
    explicit = os.environ.get("EMBER_LIBRARY")
    if explicit:
        if not os.path.isfile(explicit):
            raise SystemExit(f"EMBER_LIBRARY={explicit} is not a file")
        return explicit
    build_dir = os.path.join(HERE, "build", "libember")
    subprocess.check_call(["cmake", "-S", ROOT, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release",
                           "-DEMBER_BUILD_TESTS=OFF", "-DEMBER_BUILD_BENCH=OFF",
                           "-DEMBER_BUILD_EXAMPLES=OFF"])
    subprocess.check_call(["cmake", "--build", build_dir, "--target", "ember", "-j", str(os.cpu_count() or 2)])
    found = sorted(glob.glob(os.path.join(build_dir, "lib", "libember.so.*")), key=len)
    if not found:
        raise SystemExit("libember.so was not produced by the CMake build")
    return found[0]


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        library = _built_library()
        target = os.path.join(self.build_lib, "ember")
        os.makedirs(target, exist_ok=True)
        # One real file named libember.so: the loader in _native.py looks for it first.
        shutil.copyfile(os.path.realpath(library), os.path.join(target, "libember.so"))


setup(cmdclass={"build_py": BuildWithLibrary})
