"""SMS for one-time sign-in codes (DESIGN.md §4: a provider interface, a named simulator).

`SimulatedSms` sends nothing: it hands the message back so that the demo's page can show
the code — and says on the page that it is a simulator. A bank connects its SMS gateway
in `GatewaySms`.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass


@dataclass(frozen=True)
class SmsResult:
    provider: str
    is_simulated: bool
    # the simulator's message, to be shown on screen in the demo; None for a real gateway
    shown_text: str | None = None


class SmsProvider(abc.ABC):
    name: str
    is_simulator: bool

    @abc.abstractmethod
    def send(self, phone: str, text: str) -> SmsResult: ...


class SimulatedSms(SmsProvider):
    name = "短信模拟器"  # the pages say it sends nothing
    is_simulator = True

    def send(self, phone: str, text: str) -> SmsResult:
        return SmsResult(self.name, True, text)


class GatewaySms(SmsProvider):
    name = "短信网关"
    is_simulator = False

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def send(self, phone: str, text: str) -> SmsResult:
        raise NotImplementedError(
            "connect the bank's SMS gateway here (GatewaySms.send), endpoint "
            f"{self.endpoint!r}; until then run with CUNXIN_SMS=simulator"
        )


def get_sms_provider(setting: str) -> SmsProvider:
    """ "simulator" or "gateway:<url>" (CUNXIN_SMS)."""
    if setting == "simulator":
        return SimulatedSms()
    if setting.startswith("gateway:") and len(setting) > len("gateway:"):
        return GatewaySms(setting.removeprefix("gateway:"))
    raise ValueError(f"CUNXIN_SMS must be 'simulator' or 'gateway:<url>', got {setting!r}")
