"""`[integrations.homeassistant]`: where the discovery configs and states go."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ocrfleet.plugin import Duration, ServiceOptions

# One topic level: no separators or wildcards (MQTT), the characters
# Home Assistant accepts in a node id.
TopicLevel = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="letters, digits, - and _")
]
# Several levels, as Home Assistant allows for its discovery prefix.
TopicPath = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$",
        description="levels of letters, digits, - and _ separated by /",
    ),
]


class HomeAssistantOptions(ServiceOptions):
    # Home Assistant's MQTT discovery prefix (its MQTT integration's setting).
    discovery_prefix: TopicPath = "homeassistant"
    # Tells this daemon's entities apart from another daemon's on the broker.
    node_id: TopicLevel = "ocrfleet"
    # Where the states and the daemon's availability are published.
    state_root: TopicPath = "ocrfleet-homeassistant"
    # Home Assistant's birth message; None: "<discovery_prefix>/status".
    birth_topic: TopicPath | None = None
    # States are published when they change and at least this often.
    state_interval: Duration = Field(default=300.0, ge=10, le=86400)
    # Where a Home Assistant user finds help about these entities (its origin).
    support_url: str = ""

    @property
    def status_topic(self) -> str:
        return self.birth_topic or f"{self.discovery_prefix}/status"
