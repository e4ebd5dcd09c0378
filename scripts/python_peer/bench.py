"""Per-call time of ledgix-python 0.4.0's sync request_clearance, its own A-JWT verification
on (verify_jwt=True, the default), against a mock Vault. Driven by the `python` section of the
ledgix-bench harness (bench/).

Usage: bench.py VAULT_URL [WARMUP]

Warms up (WARMUP calls, default 50), prints {"ready": true, "version": "0.4.0"}, then for each
line N read on stdin makes N calls and prints {"samples_us": [...]}, one time per call; exits
at end of input. Every call clears tool `refund` with distinct arguments (so no cache can
answer) and must come back approved with a token.
"""

import json
import sys
import time
from importlib.metadata import version

from ledgix_python import ClearanceRequest, LedgixClient, VaultConfig


class Calls:
    def __init__(self, url):
        self.client = LedgixClient(VaultConfig(vault_url=url, agent_id="bench-agent"))
        if not self.client.config.verify_jwt:
            sys.exit("bench.py: verify_jwt is off (LEDGIX_VERIFY_JWT set?); refusing to measure")
        self.n = 0

    def run(self, count):
        """Times `count` sequential calls, in microseconds."""
        samples = []
        for _ in range(count):
            self.n += 1
            request = ClearanceRequest(
                tool_name="refund",
                tool_args={"amount": self.n, "currency": "usd", "charge_id": "ch_3PxyzBench"},
                agent_id="bench-agent",
            )
            started = time.perf_counter()
            answer = self.client.request_clearance(request)
            elapsed = time.perf_counter() - started
            if answer.status != "approved" or not answer.token:
                sys.exit(f"bench.py: call {self.n} answered {answer.status} without a usable token")
            samples.append(elapsed * 1e6)
        return samples


def main():
    url = sys.argv[1]
    warmup = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    calls = Calls(url)
    calls.run(warmup)
    print(json.dumps({"ready": True, "version": version("ledgix-python")}), flush=True)
    for line in sys.stdin:
        count = int(line)
        print(json.dumps({"samples_us": calls.run(count)}), flush=True)


if __name__ == "__main__":
    main()
