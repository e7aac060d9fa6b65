"""A bounded schemathesis run over the merged document, through a real gateway process in
front of the platform's services, as a national officer and as a commune officer. It fails
on any 5xx, schema violation, undocumented status or header, error that is not a problem
document, and valid request refused; `make fuzz` runs the long version (tests/contract/fuzz.py).
"""

from __future__ import annotations

import pytest

from shared.platform import SERVICES
from tests.conftest import free_port
from tests.contract.fuzz import fuzz_policy, st_run
from tests.gateway.conftest import start_process, stop_process
from tests.platform import ISSUER_URL

MAX_EXAMPLES = 3
SEED = 20261206
# Examples and random fuzzing only; `make fuzz` adds the coverage phase (boundary values of
# every parameter), which takes several minutes more.
PHASES = "examples,fuzzing"


@pytest.fixture
def gateway_process(platform, tmp_path):
    port = free_port()
    env = {
        **{f"GATEWAY_{s.upper()}_URL": platform.service_urls[s] for s in SERVICES},
        "GATEWAY_DEV_ISSUER_ENABLED": "true",
        "GATEWAY_DEV_ISSUER_URL": ISSUER_URL,
        "GATEWAY_POLICY_FILE": str(fuzz_policy(tmp_path)),
        "GATEWAY_OPENAPI_CACHE_SECONDS": "60",
        "GATEWAY_LOG_JSON": "false",
        "SP_ENVIRONMENT": "test",
    }
    process = start_process(["gateway.main:app"], env, port, "/ready")
    yield f"http://127.0.0.1:{port}"
    stop_process(process)


@pytest.mark.parametrize("caller", ["national.officer", "cs.phnom-penh-thmei"])
def test_the_api_keeps_its_contract_under_fuzzing(
    platform, clean_databases, gateway_process, caller, tmp_path
):
    code, output = st_run(
        gateway_process,
        platform.token(caller),
        max_examples=MAX_EXAMPLES,
        seed=SEED,
        phases=PHASES,
    )
    report = tmp_path / "schemathesis.txt"
    report.write_text(output)
    assert code == 0, f"full output in {report}\n" + output[-20000:]
