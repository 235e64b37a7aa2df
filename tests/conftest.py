import functools
import http.server
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def seeded_global_generators():
    """Each test starts from the same global random state, so that its outcome does not depend on
    which tests ran before it (a test that draws unseeded data is then still reproducible)."""
    import numpy as np
    import torch
    torch.manual_seed(0)
    np.random.seed(0)


@pytest.fixture
def http_root(tmp_path):
    """A folder served over HTTP on loopback; yields (folder, base URL)."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None  # quiet test output
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def score_settings(**changes) -> dict:
    """A scoring job's settings as the default config gives them (experiments.score_settings), with changes."""
    import yaml

    from energygan.study import experiments
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    return {**experiments.score_settings(config["evaluation"]), **changes}
