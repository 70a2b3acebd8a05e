"""The addresses participants in the room can reach this laptop at."""

from __future__ import annotations

import socket


def lan_addresses() -> list[str]:
    """IPv4 addresses of this machine other than loopback, best guess first.

    The UDP 'connect' sends no packet: it only asks the kernel which interface would route there.
    """
    found: list[str] = []
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed, nothing is sent
        found.append(probe.getsockname()[0])
    except OSError:
        pass
    finally:
        probe.close()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            ip = info[4][0]
            if not ip.startswith("127.") and ip not in found:
                found.append(ip)
    except OSError:
        pass
    return found or ["127.0.0.1"]
