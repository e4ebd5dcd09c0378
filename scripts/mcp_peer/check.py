"""The official MCP Python SDK as the client of examples/mcp_server over stdio.

Usage: check.py PATH_TO_MCP_SERVER. Exits non-zero, saying what differed, when the server does
not answer as the Ledgix adapter promises.
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

TOOLS = {"create_stripe_payment", "stripe_refund", "lookup_customer"}


def text_of(result) -> str:
    return "\n".join(getattr(c, "text", "") for c in result.content)


def is_error(result) -> bool:
    value = getattr(result, "is_error", None)
    if value is None:
        value = getattr(result, "isError", None)
    return bool(value)


def check(condition: bool, what: str) -> None:
    if not condition:
        print(f"mcp-peer: FAIL: {what}", file=sys.stderr)
        sys.exit(1)


async def main(exe: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGIX_")}
    env["RUST_LOG"] = "warn"
    params = StdioServerParameters(command=exe, args=[], env=env)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            print(f"mcp-peer: connected to {init.server_info.name} "
                  f"(protocol {init.protocol_version})")

            tools = await session.list_tools()
            names = {t.name for t in tools.tools}
            check(names == TOOLS, f"tools/list named {sorted(names)}, expected {sorted(TOOLS)}")
            print(f"mcp-peer: tools/list: {sorted(names)}")

            paid = await session.call_tool(
                "create_stripe_payment",
                {"amount": 1200, "currency": "usd", "customer_id": "cus_py"},
            )
            check(not is_error(paid), f"create_stripe_payment failed: {text_of(paid)}")
            receipt = json.loads(text_of(paid))
            check(receipt["payment_id"].startswith("pi_")
                  and receipt["payment_id"] != "pi_not-cleared",
                  f"the payment did not run under a token: {receipt}")
            check(receipt["amount"] == 1200 and receipt["customer_id"] == "cus_py",
                  f"the payment got other arguments: {receipt}")
            print(f"mcp-peer: create_stripe_payment approved: {receipt['payment_id']}")

            customer = await session.call_tool("lookup_customer", {"customer_id": "cus_py"})
            check(not is_error(customer), f"lookup_customer failed: {text_of(customer)}")
            check("cus_py" in text_of(customer), f"lookup_customer answered {text_of(customer)}")
            print("mcp-peer: lookup_customer approved")

            refund = await session.call_tool("stripe_refund", {"charge_id": "ch_py", "amount": 500})
            message = text_of(refund)
            check(is_error(refund), f"stripe_refund was not an error result: {message}")
            check("denied" in message, f"the refusal does not say denied: {message}")
            check("request_id " in message, f"the refusal gives no request_id: {message}")
            check("re_" not in message, f"the refund ran: {message}")
            print(f"mcp-peer: stripe_refund denied: {message}")
    print("mcp-peer: OK")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
