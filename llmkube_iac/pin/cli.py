"""`llmkube-iac pin <program> --stack <stack>`: every image of the stack, resolved to its digest and recorded.

The program is rendered offline (as `render` does), so the images are exactly those the site runs,
after its registryMirrors: resolving them asks the registry or mirror the nodes pull from. Images
already pinned by the stack itself (`image: ...@sha256:...`) are left alone; those pinned through
site.imageDigests are resolved again, so pin also refreshes. All or nothing: when one image cannot be
resolved, nothing is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..plan.images import images_of, pod_spec_of
from .registry import RegistryClient, RegistryError, docker_credentials
from .stack_file import SITE_KEY, digests_block, write_digests


def stack_images(manifests: list[dict], known: dict[str, str]) -> tuple[list[str], list[str]]:
    """(references to resolve, references the stack pins itself): a reference pinned by a `known`
    imageDigests entry is resolved again under its own name."""
    resolve, fixed = set(), set()
    for m in manifests:
        spec = pod_spec_of(m)
        for image in images_of(spec) if spec else []:
            ref, _, digest = image.partition("@")
            if not digest or ref in known:
                resolve.add(ref)
            else:
                fixed.add(image)
    return sorted(resolve), sorted(fixed)


def cmd_pin(args) -> int:
    from ..render.engine import ProgramError, render_program
    from ..spec import SiteSpec

    try:
        result = render_program(args.program_dir, args.stack, None, evaluate_policies=False)
    except ProgramError as exc:
        raise ValueError(f"the program failed: {exc}") from None
    sites = [SiteSpec.model_validate(r.props["spec"]) for r in result.resources if r.type == "llmkube:index:Site"]
    if len(sites) != 1:
        raise ValueError(f"pin works on a program with one Site (found {len(sites)}); pin each site's stack")
    site = sites[0]
    resolve, fixed = stack_images(result.manifests, site.image_digests)
    client = RegistryClient(
        tuple(args.plain_http),
        docker_credentials(args.docker_config),
        verify=args.ca_file or True,
        timeout=args.timeout,
    )
    digests, failures = {}, []
    for ref in resolve:
        try:
            digests[ref] = client.digest(ref)
        except (RegistryError, ValueError) as exc:
            failures.append(str(exc))
    for ref in resolve:
        if ref in digests:
            was = site.image_digests.get(ref)
            note = "" if was is None else (" (unchanged)" if was == digests[ref] else f" (was {was})")
            print(f"{ref}  {digests[ref]}{note}")
    for image in fixed:
        print(f"{image}  (pinned by the stack itself)")
    if failures:
        print("not pinned, nothing written:", file=sys.stderr)
        for f in failures:
            print(f"  {f}", file=sys.stderr)
        return 1
    stack_file = _stack_file(result.project)
    if args.dry_run:
        print(f"dry run: would set {SITE_KEY}.imageDigests in {stack_file}")
        return 0
    try:
        write_digests(stack_file, digests)
    except (OSError, ValueError) as exc:
        print(
            f"cannot edit {stack_file} ({exc}); the site is declared elsewhere (in code?): add this to its "
            f"site:\n{digests_block(digests, '  ')}",
            file=sys.stderr,
        )
        return 1
    print(f"wrote {len(digests)} digest(s) to {SITE_KEY}.imageDigests in {stack_file}")
    return 0


def _stack_file(project) -> Path:
    """Pulumi.<stack>.yaml exactly where load_project read it (stackConfigDir and its older form included)."""
    if project.stack_file is None:
        raise ValueError("the stack's configuration was not read from a Pulumi.<stack>.yaml file: nothing to write")
    return project.stack_file


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pin", help="resolve every image of a stack to its digest (registry API v2) and write them to site.imageDigests"
    )
    p.add_argument("program_dir", help="directory holding Pulumi.yaml")
    p.add_argument("--stack", help="stack name (Pulumi.<stack>.yaml); optional when there is one")
    p.add_argument(
        "--plain-http",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="a registry reached over plain http instead of https (repeatable)",
    )
    p.add_argument(
        "--docker-config",
        help="Docker config.json with registry credentials "
        "(default: $DOCKER_CONFIG/config.json or ~/.docker/config.json)",
    )
    p.add_argument("--ca-file", help="CA bundle for registries with a private CA")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per registry request (default 30)")
    p.add_argument("--dry-run", action="store_true", help="print the digests, write nothing")
    p.set_defaults(func=cmd_pin)
