"""The paged KV pool of vLLM-style runtimes (vLLM, SGLang, TGI): what they need to start, what they hold.

Why a rule of its own: llama.cpp allocates contextSize cells for all its slots when it starts, so all
of it must fit. vLLM instead takes `gpu_memory_utilization x memory`, loads the weights, profiles one
forward pass at max_num_batched_tokens (activation peak, non-torch memory) and gives the rest to a
pool of 16-token KV blocks (vllm/v1/worker/gpu_worker.py init_device, determine_available_memory); it
refuses to start unless ONE sequence of max_model_len fits that pool (vllm/v1/core/kv_cache_utils.py
check_enough_kv_cache_memory, get_kv_cache_configs) and then serves as many sequences at once as the
pool holds. A sliding-window layer is charged window - 1 + max_num_batched_tokens tokens (+1 block) per
sequence at its peak (vllm/v1/kv_cache_interface.py SlidingWindowSpec), but a running sequence frees
the blocks that left its window (vllm/v1/core/single_type_kv_cache_manager.py remove_skipped_blocks).
"""

from __future__ import annotations

from typing import Literal

from ..units import GIB as GiB
from .info import ModelInfo

PAGE_TOKENS = 16  # vLLM's KV block (CacheConfig.DEFAULT_BLOCK_SIZE): a sequence holds whole blocks
BATCHED_TOKENS = 8192  # max_num_batched_tokens when the service does not set it
GPU_MEMORY_UTILIZATION = 0.9  # the pinned vLLM's default budget fraction
MAX_SEQUENCES = 1 << 16  # search bound for "full-context sequences the KV pool holds"


def vllm_overhead_bytes(info: ModelInfo, service, tp: int) -> int:
    """vLLM's profile-run activation peak, CUDA graphs and non-torch memory (per device; approximate)."""
    tokens = service.engine.max_num_batched_tokens or BATCHED_TOKENS
    embd, vocab = info.embedding_length or 4096, info.vocab_size or 32000
    ff = (info.feed_forward_length or 4 * embd) * (info.expert_used_count or 1)
    activation = tokens * 2 * (4 * embd + 2 * ff) // max(tp, 1) + min(tokens, 1024) * vocab * 4
    graphs = 0 if service.engine.enforce_eager else GiB // 2
    return int(activation + graphs + GiB // 4 + (GiB // 2 if tp > 1 else 0))


def pool_verdict(
    need_to_start: int, budget: int, sequences: int, slots: int, margin: float
) -> Literal["fits", "marginal", "does-not-fit"]:
    """does-not-fit: one contextSize sequence does not fit (the runtime refuses to start); marginal: the
    start-up need is within `margin` of the budget, or fewer full-context sequences fit than slots."""
    if need_to_start > budget:
        return "does-not-fit"
    if budget - need_to_start < margin * budget or sequences < slots:
        return "marginal"
    return "fits"
