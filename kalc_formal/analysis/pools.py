"""Static analysis: the cache pools of the model and what each holds.

The only place in the analysis that uses the cache plugin's defaults
(``coredns/plugins/cache.py``): a pool's capacity and its shards (D3).
"""

from __future__ import annotations

from kalc_formal.analysis.ids import PoolKey
from kalc_formal.coredns.plugins.cache import (
    CACHE_DEFAULT_EFFECTIVE_CAPACITY as DEFAULT_POOL_CAPACITY,
)
from kalc_formal.coredns.plugins.cache import CACHE_SHARDS
from kalc_formal.coredns.server import ServerSetup
from kalc_formal.model.flowmodel import Pool


def pool_capacity(setup: ServerSetup | None, pool: PoolKey) -> int:
    """The entries ``pool`` holds, from its cache's options (D1, D3)."""
    default = (DEFAULT_POOL_CAPACITY, DEFAULT_POOL_CAPACITY)
    success, denial = setup.cache_capacity.get(pool.cache, default) if setup else default
    return success if pool.kind == "success" else denial


def model_pool(pool: PoolKey, setup: ServerSetup | None, shard_balance: str) -> Pool:
    """The FlowModel's pool: its capacity and, unless keys are assumed to spread evenly
    over the shards (``shard_balance: even``), what one shard holds (D3)."""
    capacity = pool_capacity(setup, pool)
    shard = capacity // CACHE_SHARDS if shard_balance == "any" else 0
    return Pool(pool.id, pool.group, capacity, shard)
