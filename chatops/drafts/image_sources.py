"""Where the bot may fetch a draft's images from: public web addresses only.

The worker fetches each `--image URL` itself to upload it to the network, from inside the
agency's network. Left unchecked, a draft could make it fetch (and publish) what only the
server can reach: a cloud metadata service at 169.254.169.254, an admin page on loopback, a
host on the intranet; even a refusal would tell the author which internal ports answer.
So an image's address must be http(s), its host must resolve to public addresses only (the
connection then goes to exactly the addresses checked, so a second DNS answer cannot
differ), every redirect is checked again, and an optional allow list narrows the hosts
further (`CHATOPS_IMAGE_HOSTS`). This module decides; the network adapter that fetches
applies it at every hop. What people are told says why in plain words, with no address,
port or error text from inside.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_REDIRECTS = 3
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

NOT_A_WEB_ADDRESS = "its address is not a web address (it must start with https:// or http://)"
NOT_PUBLIC = "its address is not a public web address"
NOT_LISTED = "its web site is not one of the agency's image sites (CHATOPS_IMAGE_HOSTS)"
TOO_MANY_REDIRECTS = f"its address redirects more than {MAX_REDIRECTS} times"
UNREACHABLE = "it could not be fetched from its web site"


def image_refused(number: int, reason: str) -> str:
    """The sentence a card shows, e.g. "Image 1 was not published: its address is not a
    public web address."."""
    return f"Image {number} was not published: {reason}."


@dataclass(frozen=True)
class ImageSources:
    """`hosts`: when not empty, the only sites (and their subdomains) images may come from.
    `also_allowed`: networks allowed although not public, named explicitly (a test's
    loopback server, an agency's own intranet image host)."""

    hosts: tuple[str, ...] = ()
    also_allowed: tuple[IPNetwork, ...] = ()

    def url_refusal(self, url: str) -> str | None:
        """Why `url` may not be fetched, judged from the text alone (no DNS): the scheme,
        the host allow list, and a host written as an IP address. None when it may be
        tried, which the address check at connection time must still confirm."""
        try:
            parts = urlsplit(url.strip())
            host = parts.hostname
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            return NOT_A_WEB_ADDRESS
        if parts.scheme.lower() not in ("http", "https") or not host:
            return NOT_A_WEB_ADDRESS
        host = host.rstrip(".").lower()
        literal = _literal_address(host)
        if literal is not None:
            return self.address_refusal(literal)
        if self.hosts and not any(host == h or host.endswith("." + h) for h in self._hosts):
            return NOT_LISTED
        return None

    def address_refusal(self, address: str | IPAddress) -> str | None:
        """Why a connection to `address` is refused: anything but a global unicast address
        (loopback, private, link-local, multicast, reserved, unspecified, shared, IPv4 inside
        IPv6 of any of those), unless its network is named in `also_allowed`."""
        try:
            ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        except ValueError:
            return NOT_PUBLIC
        if isinstance(ip, ipaddress.IPv6Address):
            embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
            if ip in _NAT64:  # 64:ff9b::a.b.c.d reaches IPv4 a.b.c.d through a NAT64 gateway
                embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
            if embedded is not None and self.address_refusal(embedded) is not None:
                return NOT_PUBLIC
        if any(ip in network for network in self.also_allowed):
            return None
        if not ip.is_global or ip.is_multicast or ip.is_reserved:
            return NOT_PUBLIC
        return None

    @property
    def _hosts(self) -> tuple[str, ...]:
        return tuple(h.strip().rstrip(".").lower() for h in self.hosts if h.strip())


def _literal_address(host: str) -> IPAddress | None:
    """The host as an IP address if it is written as one, in any form a URL parser or a
    socket library accepts ("127.1", "2130706433" and "0x7f.1" are loopback too)."""
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None
