"""A transcript of an agent's session with `dlexpert mcp` (issue 18), through the MCP SDK's own stdio client: the
tool list with each tool's arguments, then `plan` on an example spec and `diagnose` on a real training log from the
tune half of benchmarks/real_logs, each request and the answer's key fields.

    python benchmarks/mcp_transcript.py [--spec examples/edge-detection.yaml] [--log PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
LOG = ROOT / "benchmarks/real_logs/detection-of-tomato-leaf-dis__training-log/training_log.csv"


async def session(spec: dict, log: Path) -> None:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    params = StdioServerParameters(command=sys.executable, args=["-m", "dlexpert", "mcp", "--runs", "runs"],
                                   env={"HF_HUB_OFFLINE": "1"})  # fmt: skip
    async with Client(params, read_timeout_seconds=120) as client:
        print("> tools/list")
        for tool in (await client.list_tools()).tools:
            props = tool.input_schema.get("properties", {})
            required = set(tool.input_schema.get("required", []))
            args = ", ".join(f"{k}{'' if k in required else '?'}: {_type(v)}" for k, v in props.items())
            print(
                f"  {tool.name}({args}) -> {tool.output_schema.get('title', 'object') if tool.output_schema else '-'}"
            )
            print(f"      {tool.description.splitlines()[0]}")
        request = {"task": spec, "assume_defaults": True}
        print(f"\n> tools/call plan {json.dumps(request)[:300]}...")
        plan = (await client.call_tool("plan", request)).structured_content
        model = plan["modelDesign"]["pretrainedModel"]
        print(f"  pretrainedModel: {model['name']} ({model['source']})")
        print(f"  architecture: {plan['modelDesign']['architecture'][:160]}")
        for e in plan["evidence"][:4]:
            print(f"  evidence: {e['claim']}: {e['value']} [{e['source'][:90]}]")
        print(f"  alternatives: {', '.join(a['name'] for a in plan['alternatives'][:4])}")
        print(f"  questions: {len(plan['questions'])}, assumptions: {len(plan['assumptions'])}")
        print(f'\n> tools/call diagnose {{"path": "{log.relative_to(ROOT)}"}}')
        diagnosis = (await client.call_tool("diagnose", {"path": str(log)})).structured_content
        for f in diagnosis["findings"]:
            print(f"  {f['severity']} {f['issue']}: {f['diagnosis'][:200]}")
            print(f"      first: {f['solution'][0][:160]}")
        print('\n> tools/call plan {"task": {"task": {"type": "clasification", "domain": "CV"}}}')
        bad = await client.call_tool("plan", {"task": {"task": {"type": "clasification", "domain": "CV"}}})
        print(f"  isError={bad.is_error}: {bad.content[0].text}")


def _type(schema: dict) -> str:
    if "anyOf" in schema:
        return "|".join(_type(s) for s in schema["anyOf"])
    if "enum" in schema:
        return "|".join(map(str, schema["enum"]))
    return str(schema.get("type", "object"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", type=Path, default=ROOT / "examples/edge-detection.yaml")
    ap.add_argument("--log", type=Path, default=LOG)
    args = ap.parse_args()
    asyncio.run(session(yaml.safe_load(args.spec.read_text()), args.log.resolve()))


if __name__ == "__main__":
    main()
