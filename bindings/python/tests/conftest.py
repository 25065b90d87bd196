import json
import os
import pathlib

import pytest

DATA = pathlib.Path(os.environ.get("EMBER_TEST_DATA", pathlib.Path(__file__).resolve().parents[3] / "tests" / "data"))


def data_file(relative: str) -> pathlib.Path:
    path = DATA / relative
    if not path.exists():
        pytest.fail(f"test data missing: {path}")
    return path


@pytest.fixture(scope="session")
def stories_path() -> str:
    return str(data_file("models/stories260K.gguf"))


@pytest.fixture(scope="session")
def reference() -> dict:
    return json.loads(data_file("reference/stories260K.f32kv.json").read_text())


@pytest.fixture()
def model(stories_path):
    import ember
    with ember.Model(stories_path) as m:
        yield m
