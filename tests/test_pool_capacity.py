"""A cache's capacity is read from its options wherever its Corefile lives.

Pool ids hold the cache's id, which holds the Corefile's path: the capacity must not be
found by splitting that id (a path with "/" gave the 9,984 default instead). The test
reads each pool's kind from its key classes, not from the id's text.
"""

import shutil
from pathlib import Path

import pytest

from kalc_formal import engine
from kalc_formal.config import reading

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def pool_capacities(folder: Path) -> list[tuple[str, int, int]]:
    analysis = engine.analyse_inputs(reading.read_inputs([str(folder)]))
    model = analysis.model
    kinds = {key.pool: analysis.keys[key.id].pool for key in model.key_classes if key.pool}
    assert len(kinds) == len(model.pools)
    return sorted(
        (str(kinds[pool.id]), pool.capacity, pool.shard_capacity) for pool in model.pools
    )


@pytest.mark.parametrize("where", ["flat", "deeper/still/deeper"])
def test_success_and_denial_capacities_come_from_the_cache_block(tmp_path, monkeypatch, where):
    folder = tmp_path / where
    shutil.copytree(EXAMPLES / "small-cluster", folder)
    configmap = folder / "coredns-configmap.yaml"
    configmap.write_text(configmap.read_text().replace(
        "        cache 30\n",
        "        cache 30 {\n            success 5000\n            denial 2560\n        }\n",
    ))
    monkeypatch.chdir(tmp_path)
    relative = Path(where)
    assert "/" in str(folder)
    assert ("/" in str(relative)) == (where != "flat")
    expected = [("denial", 2560, 10), ("success", 4864, 19)]  # 256 shards of max(4, cap // 256)
    assert pool_capacities(relative) == expected
    assert pool_capacities(folder) == expected
