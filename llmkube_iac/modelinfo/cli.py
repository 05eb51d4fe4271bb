"""`llmkube-iac inspect`, `fit` and `catalog`: model facts and the fit verdict from the command line."""

from __future__ import annotations

import json


def _inspect(args) -> int:
    from .inspect import inspect_source

    try:
        info = inspect_source(args.source)
    except FileNotFoundError as exc:
        raise ValueError(str(exc)) from None
    except OSError as exc:
        print(f"inspect failed: {exc}")
        return 1
    d = {k: v for k, v in info.to_dict().items() if v not in (None, {}, [])}
    if args.json:
        print(json.dumps(d, indent=2))
    else:
        for k, v in d.items():
            if isinstance(v, list) and len(v) > 8:
                v = f"{v[:8]}... ({len(v)} layers)"
            print(f"{k:24} {v}")
    return 0


def _fit(args) -> int:
    from ..spec.model import ModelSpec
    from ..spec.service import InferenceServiceSpec
    from .accelerators import lookup_accelerator
    from .fit import fit_service
    from .inspect import inspect_source

    info = None
    if args.source.startswith("catalog:"):
        from .catalog import catalog_entry, catalog_info

        entry = catalog_entry(args.source.split(":", 1)[1])
        info = catalog_info(entry["name"], args.quantization or entry.get("quantization"))
        model = ModelSpec(source=entry.get("source") or "hf://catalog/unknown")
    else:
        try:
            info = inspect_source(args.source)
        except OSError as exc:
            print(f"inspect failed: {exc}")
            return 1
        model = ModelSpec(
            source=args.source if "://" in args.source else f"file://{__import__('os').path.abspath(args.source)}"
        )
    acc = lookup_accelerator(args.accelerator)
    if acc is None:
        raise ValueError(
            f"--accelerator {args.accelerator!r} is not in the table; see llmkube_iac.modelinfo.accelerators"
        )
    svc = InferenceServiceSpec.model_validate(
        {
            "name": "fit",
            "model": model.model_dump(by_alias=True, exclude_none=True),
            "runtime": args.runtime,
            "accelerator": {"vendor": acc.vendor, "count": args.count, "product": acc.name},
            "contextSize": args.context,
            "parallelSlots": args.parallel,
            "kvCacheTypeK": args.kv_cache_type,
            "kvCacheTypeV": args.kv_cache_type,
        }
    )
    report = fit_service(model, svc, product=acc.name, info=info)
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.summary())
    return 0 if report.verdict in ("fits", "marginal") else (3 if report.verdict == "unknown" else 1)


def _catalog(args) -> int:
    from .catalog import format_catalog, load_catalog

    print(json.dumps(list(load_catalog().values()), indent=2) if args.json else format_catalog())
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("inspect", help="read a model's header (GGUF or safetensors+config.json), not its weights")
    p.add_argument("source", help="path, file://, pvc://, https://, hf://org/repo[@rev][/file], catalog:NAME")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_inspect)
    p = sub.add_parser("fit", help="does a model fit an accelerator: weights + KV cache + overhead per device")
    p.add_argument("source", help="a source as for inspect, or catalog:NAME")
    p.add_argument("--accelerator", required=True, help='product, e.g. "NVIDIA H100 80GB" or H100')
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--context", type=int)
    p.add_argument("--parallel", type=int, default=1)
    p.add_argument("--kv-cache-type")
    p.add_argument("--runtime", default="llamacpp")
    p.add_argument("--quantization", help="catalog models: weights quantization (Q4_K_M, FP8, BF16 ...)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_fit)
    p = sub.add_parser("catalog", help="list the catalog of well-known models and their published facts")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_catalog)
