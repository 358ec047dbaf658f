"""The two scales of the benchmark: what the seed writes and how much each figure is measured."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    # The network the seed writes.
    citeslabs: int
    partners: int  # employment and business-creation organisations
    holders: int
    referrals: int
    activities: int
    neighbourhoods: int
    advisors_per_citeslab: int
    staff_per_partner: int
    coordinators: int
    heavy_notifications: int  # the notifications of the one heavy user
    # The measurements.
    rounds: int  # requests of each figure (and as many of its floor), at most
    min_rounds: int  # at least, whatever the time budget
    figure_seconds: float  # time budget of one figure (and its floor) once min_rounds are done
    write_rounds: int  # writes of each kind at concurrency 1 (and again at concurrency 8)
    write_concurrency: int
    concurrent_requests: int  # requests sent at once (no error expected)
    fanout_sockets: int
    memory_sockets: int
    idle_seconds: float  # how long the idle socket waits before its note

    @property
    def organisations(self) -> int:
        return self.citeslabs + self.partners + 1  # one coordination


NATIONAL = Scale(
    name="national",
    citeslabs=8,
    partners=51,
    holders=40_000,
    referrals=100_000,
    activities=3_000,
    neighbourhoods=120,
    advisors_per_citeslab=5,
    staff_per_partner=3,
    coordinators=2,
    heavy_notifications=210_000,
    rounds=200,
    min_rounds=10,
    figure_seconds=8.0,
    write_rounds=100,
    write_concurrency=8,
    concurrent_requests=400,
    fanout_sockets=200,
    memory_sockets=1_000,
    idle_seconds=600.0,
)

TINY = Scale(
    name="tiny",
    citeslabs=2,
    partners=6,
    holders=30,
    referrals=100,
    activities=10,
    neighbourhoods=6,
    advisors_per_citeslab=2,
    staff_per_partner=2,
    coordinators=1,
    heavy_notifications=150,
    rounds=2,
    min_rounds=2,
    figure_seconds=5.0,
    write_rounds=3,
    write_concurrency=8,
    concurrent_requests=40,
    fanout_sockets=20,
    memory_sockets=50,
    idle_seconds=7.0,
)

SCALES = {scale.name: scale for scale in (NATIONAL, TINY)}
