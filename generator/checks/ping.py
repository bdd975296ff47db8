"""ICMP echo (ping) checks, through icmplib: unprivileged ICMP sockets where the OS allows them
(Linux's net.ipv4.ping_group_range, macOS), raw sockets where the process may open them (root,
CAP_NET_RAW), and `ping_not_permitted` where neither is allowed. Loss and round-trip times are
recorded; all replies lost is down, some lost (or slower than degraded_after) degraded."""

from __future__ import annotations

import time

from generator.checks.result import Outcome, down
from generator.checks.spec import PingCheck


async def probe_ping(spec: PingCheck, clients: object = None) -> Outcome:
    # Imported here: only sites with a ping check pay for it.
    from icmplib import async_ping  # not at the top: 31 ms of imports, paid only here
    from icmplib.exceptions import ICMPLibError, NameLookupError, SocketPermissionError  # not at the top: 32 ms of imports, paid only here

    started = time.perf_counter()
    interval = min(0.2, spec.timeout / max(1, spec.count))
    host = None
    modes = (False, True) if spec.privileged == "auto" else (False,)
    for privileged in modes:
        try:
            host = await async_ping(spec.host, count=spec.count, interval=interval,
                                    timeout=max(0.1, spec.timeout - interval * (spec.count - 1)),
                                    privileged=privileged)
            break
        except SocketPermissionError:
            continue
        except NameLookupError:
            return down("dns_nxdomain", f"{spec.host} does not resolve")
        except (ICMPLibError, OSError) as exc:
            return down("error", f"ping {spec.host} failed: {exc}")
    if host is None:
        return down("ping_not_permitted", "this machine lets this process send no ICMP echo (no unprivileged ICMP "
                                          "sockets: net.ipv4.ping_group_range; no raw sockets: not root, no CAP_NET_RAW)"
                    + ("" if spec.privileged == "auto" else "; privileged: false forbids raw sockets"))
    details = {"sent": host.packets_sent, "received": host.packets_received,
               "loss": round(host.packet_loss, 3), "address": host.address}
    if not host.is_alive:
        return Outcome("down", "timeout", f"no echo reply from {spec.host} ({host.packets_sent} sent)",
                       None, details)
    rtt = round(host.avg_rtt, 1)
    details.update(rtt_min_ms=round(host.min_rtt, 1), rtt_max_ms=round(host.max_rtt, 1))
    if host.packet_loss > 0:
        return Outcome("degraded", "packet_loss", f"{host.packets_received} of {host.packets_sent} echo replies "
                                                  f"from {spec.host}, {rtt} ms on average", rtt, details)
    if spec.degraded_after is not None and rtt > spec.degraded_after * 1000:
        return Outcome("degraded", "slow", f"echo replies from {spec.host} took {rtt} ms on average "
                                           f"(degraded after {spec.degraded_after:g}s)", rtt, details)
    del started
    return Outcome("up", "ok", f"{host.packets_received} echo replies from {spec.host}, {rtt} ms on average", rtt, details)
