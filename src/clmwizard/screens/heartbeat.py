"""Step 10 (optional): the heartbeat flow — created (or updated: never a second), on, daily —
run once now as the connector's end-to-end test; the result with what CLM answered, or the
failing action's error in plain words. Says which connections it keeps alive (three-connector
layout: only the general one) and what to do for the others."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from textual import work
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Static

from clmwizard.safe_text import markup_escaped as escape
from clmwizard.screens.platform_step import (
    CONNECT_KEYS,
    PlatformStepScreen,
    in_wizard,
    latest_record,
)
from clmwizard.store.profile import Profile

RUN_TIMEOUT = 300.0
EVERY = "1d"


class HeartbeatScreen(PlatformStepScreen):
    STEP = "Heartbeat"
    INTRO = (
        "Heartbeat: a flow that reads CLM through the connection (List attribute "
        "groups) daily, so its DocuSign sign-in never dies unused — and runs once now: "
        "the connector's end-to-end test. Optional: esc goes back to Connect."
    )
    BINDINGS = [
        Binding("enter", "next", "finish"),
        *PlatformStepScreen.SIGN_IN_BINDINGS,
        Binding("r", "retry", "run again"),
    ]

    def __init__(self, profile: Profile) -> None:
        super().__init__(profile)
        self.succeeded: bool | None = None
        self.result = ""

    def compose_step(self) -> Iterable[Widget]:
        yield Static("", id="flow")
        yield Static("", id="kept")
        yield Static("", id="wait")
        yield Static("", id="result")

    @work(exclusive=True, group="heartbeat")
    async def run_step(self) -> None:
        from clmwizard.powerplatform.flows import parse_every
        from clmwizard.powerplatform.heartbeat import (
            heartbeat_target,
            kept_alive_lines,
            run_once,
            set_up,
        )
        from clmwizard.powerplatform.setup import make_apis

        self.message.clear()
        self.query_one("#result", Static).update("")
        profiles = self.wizard.context.profiles
        try:
            profile = await asyncio.to_thread(profiles.load, self.profile.name)
            self.profile = profile
            record = latest_record(profile)
            target = heartbeat_target(profile, record.environment_id if record else None)
            signed = await self.sign_in(flow=True)
            secrets = await asyncio.to_thread(self.wizard.secret_store)
            schedule = parse_every(EVERY)
            flow_url = self.settings.flow_url

            factory = self.wizard.context.client_factory
            async with factory(ca_bundle=self.settings.ca_bundle) as http:
                _, flows = make_apis(
                    http, self.settings, *signed, secrets=secrets, profile=profile.name
                )
                assert flows is not None
                outcome = await set_up(
                    flows, profiles, profile, target, schedule, on=True, flow_url=flow_url
                )
                done = "created" if outcome.created else "updated (the same flow as before)"
                self.query_one("#flow", Static).update(
                    f"✓ Heartbeat flow [b]{escape(outcome.flow_id)}[/b] {done}: on, "
                    f"{schedule.words}."
                )
                self.query_one("#kept", Static).update(
                    "\n".join(
                        f"  {escape(line)}" for line in kept_alive_lines(target, profile.name)
                    )
                )
                self.set_phase("waiting")
                self.start_wait("waiting for the heartbeat's test run", RUN_TIMEOUT)
                run = await run_once(
                    flows,
                    profiles,
                    target,
                    outcome,
                    profile_name=profile.name,
                    flow_url=flow_url,
                    timeout=RUN_TIMEOUT,
                    poll=self.wizard.context.poll_seconds,
                    tick=self.tick,
                )
        except Exception as error:  # a server's failure is a message, never a crash
            self.fail(error)
            return
        self.end_wait()
        self.succeeded, self.result = outcome.succeeded, outcome.result
        if outcome.succeeded:
            self.query_one("#result", Static).update(
                f"[b]✓ Test run succeeded:[/b] CLM answered {escape(outcome.result)}."
            )
            self.message.show_ok(
                "The connector works end to end, and the heartbeat keeps the connection alive. "
                f"`clmwizard status --profile {profile.name}` checks it all at any time. "
                "enter finishes · r runs it again."
            )
        else:
            said = in_wizard(outcome.result, "Heartbeat")
            self.query_one("#result", Static).update(
                f"[b]✗ Test run {escape(run.status.lower())}:[/b] {escape(said)}."
            )
            back = CONNECT_KEYS["Heartbeat"]
            self.message.show_warning(
                f"The flow exists and is on. {back[0].upper()}{back[1:]}; its enter then runs "
                "the heartbeat again."
                if back in said
                else "The flow exists and is on; fix what the run says, then press r to run it "
                "again."
            )
        self.set_phase("done")
