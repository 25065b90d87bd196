"""Conan 2 recipe for ember.

Build dependencies are Debian's packages, declared here as requirements and satisfied by the
profile's [platform_requires] (see ./profile), so `conan create` reaches no remote:

    conan create cmake/conan --profile:all cmake/conan/profile --build=missing
"""
import os

from conan import ConanFile
from conan.tools.cmake import CMake, CMakeToolchain, cmake_layout
from conan.tools.files import copy


class EmberConan(ConanFile):
    name = "ember"
    version = "0.1.0"
    license = "MIT"
    description = "Run open-weight language models (GGUF) on a laptop CPU; stable C ABI"
    topics = ("llm", "gguf", "inference")
    settings = "os", "arch", "compiler", "build_type"
    options = {"shared": [True, False]}
    default_options = {"shared": True}
    requires = (
        "fmt/9.1.0",
        "onetbb/2021.8.0",
        "eigen/3.4.0",
        "xsimd/8.1.0",
        "nlohmann_json/3.11.2",
    )

    def export_sources(self):
        root = os.path.join(self.recipe_folder, "..", "..")
        for pattern in ("CMakeLists.txt", "CMakePresets.json", "cmake/*", "include/*", "lib/*"):
            copy(self, pattern, src=root, dst=self.export_sources_folder,
                 excludes=("build*", "cmake/conan/*"))

    def layout(self):
        cmake_layout(self)

    def generate(self):
        tc = CMakeToolchain(self)
        tc.cache_variables["EMBER_BUILD_SHARED"] = bool(self.options.shared)
        tc.cache_variables["EMBER_BUILD_STATIC"] = not bool(self.options.shared)
        tc.cache_variables["EMBER_BUILD_TESTS"] = False
        tc.cache_variables["EMBER_BUILD_BENCH"] = False
        tc.cache_variables["EMBER_BUILD_EXAMPLES"] = False
        tc.generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        CMake(self).install()

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "ember")
        self.cpp_info.set_property("cmake_target_name", "ember::ember")
        self.cpp_info.set_property("pkg_config_name", "ember")
        self.cpp_info.libs = ["ember"]
        if not self.options.shared:
            self.cpp_info.system_libs = ["tbb", "fmt", "pthread"]
