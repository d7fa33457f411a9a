"""Issue 6's targets, judged from ``latest.json``, and the Markdown table written next to it."""

from __future__ import annotations

from typing import Any

MET, NOT_MET, NOT_MEASURED = "met", "NOT met", "not measured"


def _row(section: dict | None, key: str, value: Any) -> dict | None:
    if not section:
        return None
    return next((r for r in section.get("rows", []) if r.get(key) == value), None)


def _judge(ok: bool | None) -> str:
    return NOT_MEASURED if ok is None else (MET if ok else NOT_MET)


def targets(results: dict) -> list[dict]:
    """Each target of issue 6 with its figure and whether it is met."""
    out = []
    kernel, step, memory, sweep, dash, through = (
        results.get(k) for k in ("kernel", "step", "memory", "sweep", "dashboard", "throughput")
    )

    k = _row(kernel, "agents", 10_000)
    out.append(
        {
            "target": "Kernel at 10^4 agents: >= 10x faster than the plain-Mesa reference",
            "figure": f"{k['mesa_over_project']:.1f}x" if k else "",
            "status": _judge(k and k["mesa_over_project"] >= 10),
        }
    )
    out.append(
        {
            "target": "Kernel at 10^4 agents: within 2x of the bare numpy reference",
            "figure": f"{k['project_over_numpy']:.2f}x the numpy time" if k else "",
            "status": _judge(k and k["project_over_numpy"] <= 2),
        }
    )

    ratio = step.get("step_over_numpy_sweep_at_10000") if step else None
    typical = step.get("typical_step_over_numpy_sweep_at_10000") if step else None
    out.append(
        {
            "target": "Full model step at 10^4 residents within 10x of one bare-numpy kernel sweep at 10^4",
            "figure": f"{ratio:.0f}x (mean step; typical step {typical:.0f}x)" if ratio is not None else "",
            "status": _judge(None if ratio is None else ratio <= 10),
        }
    )

    rows = (step or {}).get("rows", [])
    shares = [(r["residents"], r["share"]["collect"]) for r in rows]
    swept = [(r["residents"], r["sweep_collect_share"]) for r in rows if "sweep_collect_share" in r]
    out.append(
        {
            "target": "Data collection (collect) <= 10% of step time, recording every month",
            "figure": ", ".join(f"{s:.1%} at {n:,}" for n, s in shares),
            "status": _judge(all(s <= 0.10 for _, s in shares) if shares else None),
        }
    )
    if swept:
        out.append(
            {
                "target": "Data collection <= 10% of step time, as a sweep records (every 6 months)",
                "figure": ", ".join(f"{s:.1%} at {n:,}" for n, s in swept),
                "status": _judge(all(s <= 0.10 for _, s in swept)),
            }
        )

    m = _row(memory, "residents", 100_000)
    full = m is not None and "peak_rss_bytes" in m and m.get("steps") == 120
    out.append(
        {
            "target": "100,000 residents x 120 steps in one process within 2 GB",
            "figure": (
                f"peak RSS {m['peak_rss_bytes'] / 2**20:,.0f} MiB over {m['steps']} steps"
                if m and "peak_rss_bytes" in m
                else ""
            ),
            "status": _judge(m["within_2gb"] if full else None),
        }
    )

    rows = (sweep or {}).get("rows", [])
    p = (sweep or {}).get("cores", 0)
    local = next(
        (
            r
            for r in rows
            if (r["experiment"], r["executor"], r["workers"]) == ("compare_designs", "local", p)
        ),
        None,
    )
    dask = next(
        (r for r in rows if (r["experiment"], r["executor"], r["workers"]) == ("compare_designs", "dask", p)),
        None,
    )
    eff = local.get("efficiency_wall") if local and p > 1 else None
    out.append(
        {
            "target": f"Parallel efficiency >= 0.85 on {p or 2} cores, compare-designs (local pool)",
            "figure": f"{eff:.2f}"
            + (f" (Dask {dask['efficiency_wall']:.2f})" if dask and dask.get("efficiency_wall") else "")
            if eff is not None
            else (sweep or {}).get("skipped", ""),
            "status": _judge(None if eff is None else eff >= 0.85),
        }
    )
    slower = dask.get("slower_than_local_pool_wall") if dask else None
    out.append(
        {
            "target": "Dask LocalCluster at most 15% slower than the local pool (compare-designs, all cores)",
            "figure": f"{slower:+.1%}" if slower is not None else (sweep or {}).get("skipped", ""),
            "status": _judge(None if slower is None else slower <= 0.15),
        }
    )

    d = _row(dash, "residents", 1_000)
    sps = d.get("steps_per_second") if d else None
    out.append(
        {
            "target": "Dashboard >= 10 steps/s with 1,000 residents while playing (browser)",
            "figure": f"{sps:.1f} steps/s (headless {d['headless_steps_per_second']:.1f})"
            if sps is not None and "headless_steps_per_second" in d
            else (f"{sps:.1f} steps/s" if sps is not None else (dash or {}).get("skipped", "")),
            "status": _judge(None if sps is None else sps >= 10),
        }
    )

    scale = results.get("scaling") or {}
    at16 = next((r for r in scale.get("rows", []) if (r["executor"], r["workers"]) == ("local", 16)), None)
    e16 = at16.get("efficiency_runs") if at16 else None
    out.append(
        {
            "target": "Parallel efficiency >= 0.80 at 16 workers, compare-designs (local pool, runs "
            "without the workers' start-up)",
            "figure": f"{e16:.2f}" if e16 is not None else scale.get("skipped", "not measured"),
            "status": _judge(None if e16 is None else e16 >= 0.80),
        }
    )

    ws = results.get("workshop") or {}
    worst = ws.get("max_seconds_median")
    full_room = ws.get("participants", 0) >= 50  # the goal's room
    out.append(
        {
            "target": f"Workshop: last choice of a round to every page showing the new month < "
            f"{ws.get('goal_seconds', 1.0):g} s, 50 participants, "
            f"{ws.get('residents', 1000):,} residents (issue 17; median over the rounds of the slowest page)",
            "figure": f"{worst:.2f} s (slowest round {ws['max_seconds_worst']:.2f} s)"
            + (
                ""
                if full_room
                else f"; only {ws.get('participants')} participants ({ws['mode']} run): not judged"
            )
            if worst is not None
            else ws.get("skipped", ""),
            "status": _judge(None if worst is None or not full_room else bool(ws.get("goal_met"))),
        }
    )
    stored = ws.get("stored")
    out.append(
        {
            "target": "Workshop: no choice lost (one stored per participant per round, none doubled or "
            "simulated) (issue 17)",
            "figure": f"{stored['human_rows']} stored of {stored['choices_made']} made; "
            f"{stored['lost']} lost, {stored['doubled']} doubled, {stored['altered']} altered, "
            f"{stored['simulated_for_a_chooser']} simulated for a participant who chose"
            if stored
            else ws.get("skipped", ""),
            "status": _judge(None if not stored else bool(ws.get("none_lost"))),
        }
    )

    gain = through.get("speedup_over_baseline") if through else None
    out.append(
        {
            "target": "Runs per second per core on compare-designs >= 10x the issue-18 baseline "
            "(yardstick-normalised)",
            "figure": f"{gain:.2f}x ({through['runs_per_second_per_core']:.2f} runs/s/core; baseline "
            f"{through['baseline']['runs_per_second_per_core']:.2f}, {through['baseline']['started']})"
            if gain is not None
            else "",
            "status": _judge(None if gain is None else gain >= 10),
        }
    )
    return out


def _conditions(section: dict) -> str:
    m = section["machine"]
    return (
        f"_{section['mode']} mode, {section['started']}, {section['repeats']} repeats, load average "
        f"{section['load_average_before']} before and {section['load_average_after']} after, "
        f"{m['usable_cores']} cores, {section['seconds']} s; model code "
        f"{section.get('code', {}).get('model_code_version', '?')}_"
    )


def markdown(results: dict) -> str:
    lines = ["# Benchmarks", ""]
    any_section = next((results[k] for k in ("kernel", "step", "memory", "sweep") if k in results), None)
    if any_section:
        m = any_section["machine"]
        lines += [
            f"Machine: {m['cpu']}, {m['usable_cores']} usable cores ({m['cpu_count']} CPUs), "
            f"{m['memory_gib']} GiB, {m['platform']}; Python {m['python']}, numpy {m['numpy']}, "
            f"Mesa {m['mesa']}, Dask distributed {m['dask']}.",
            "Medians of interleaved repeats; ratios are taken within a repeat. Reproduce with `make bench` "
            "(`python -m benchmarks.run`; `--quick` for a short run, `--only NAME` for one part).",
            "",
        ]
    lines += ["## Targets (issue 6)", "", "| Target | Figure | Status |", "|---|---|---|"]
    lines += [f"| {t['target']} | {t['figure']} | {t['status']} |" for t in targets(results)]
    lines.append("")

    if kernel := results.get("kernel"):
        lines += ["## (a) Deffuant kernel, microseconds per agent-step", "", _conditions(kernel), ""]
        lines += [f"Unit: {kernel['unit']}.", ""]
        lines += [
            "| Agents | Project | Bare numpy | Plain Mesa | Mesa / project | Project / numpy |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for r in kernel["rows"]:
            us = r["us_per_agent_step"]
            lines.append(
                f"| {r['agents']:,} | {us['project']:.3f} | {us['numpy']:.3f} | {us['mesa']:.3f} | "
                f"{r['mesa_over_project']:.1f}x | {r['project_over_numpy']:.2f}x |"
            )
        if kernel.get("note"):
            lines += ["", kernel["note"]]
        lines.append("")

    if step := results.get("step"):
        names = list(step["rows"][0]["share"]) if step["rows"] else []
        lines += ["## (b) Full model step, and the share of each mechanism", "", _conditions(step), ""]
        lines += [
            f"Scenario: {step['design']}, populations scaled with the residents (officials, academics, "
            f"groups, districts, participants per month as listed); {step['warm_up_steps']} warm-up steps, "
            f"then {step['steps_per_repeat']} steps per repeat, {step['repeats'] * step['steps_per_repeat']} "
            f"in all (whole cycles of the {step['betweenness_interval']}-step betweenness interval). Shares "
            "are of the total time; collect = data collection (metrics memory, outputs, DataCollector).",
            "",
            "| Residents | Agents | Officials / academics / groups / districts / participants "
            + "| ms per step (median / mean) | "
            + " | ".join(names)
            + " |",
            "|---:|---:|---|---:|" + "---:|" * len(names),
        ]
        for r in step["rows"]:
            pop = " / ".join(f"{v:,}" for v in r["population"].values())
            shares = " | ".join(f"{r['share'][n]:.0%}" for n in names)
            lines.append(
                f"| {r['residents']:,} | {r['agents']:,} | {pop} | {r['ms_per_step']:.1f} / "
                f"{r['ms_per_step_mean']:.1f} | {shares} |"
            )
        lines += ["", "Collect split (share of the whole step):"]
        for r in step["rows"]:
            split = ", ".join(f"{k} {v:.1%}" for k, v in r["collect_split"].items())
            lines.append(f"- {r['residents']:,} residents: {split}")
            if "sweep_collect_share" in r:
                lines[-1] += (
                    f"; as a sweep records (outputs read every 6 months, no DataCollector): collect "
                    f"{r['sweep_collect_share']:.1%} of its step"
                )
        if step.get("step_over_numpy_sweep_at_10000") is not None:
            lines += [
                "",
                f"Yardstick: {step['yardstick']}: numpy sweep {step['numpy_sweep_ms_at_10000']:.3f} ms; "
                f"mean step {step['step_over_numpy_sweep_at_10000']:.0f}x, typical step "
                f"{step['typical_step_over_numpy_sweep_at_10000']:.0f}x.",
            ]
        lines.append("")

    if sweep := results.get("sweep"):
        lines += ["## (c) Sweep throughput and parallel efficiency", "", _conditions(sweep), ""]
        if sweep.get("skipped"):
            lines += [sweep["skipped"], ""]
        else:
            lines += [
                sweep["method"] + ".",
                "",
                "| Experiment | Executor | Workers | Runs | Wall s | Sweep s | Start-up s | Runs/s "
                "| Efficiency (wall / sweep / runs) | Dask slower than pool (wall / sweep) |",
                "|---|---|---:|---:|---:|---:|---:|---:|---|---|",
            ]
            for r in sweep["rows"]:
                if "wall_seconds" not in r:
                    lines.append(
                        f"| {r['experiment']} | {r['executor']} | {r['workers']} | failed: "
                        f"{r.get('error', '').splitlines()[-1] if r.get('error') else ''} ||||||"
                    )
                    continue
                eff = (
                    f"{r['efficiency_wall']:.2f} / {r['efficiency_sweep']:.2f}"
                    + (f" / {r['efficiency_runs']:.2f}" if r.get("efficiency_runs") is not None else "")
                    if r.get("efficiency_wall") is not None
                    else ""
                )
                slow = (
                    f"{r['slower_than_local_pool_wall']:+.0%} / {r['slower_than_local_pool_sweep']:+.0%}"
                    if r.get("slower_than_local_pool_wall") is not None
                    else ""
                )
                lines.append(
                    f"| {r['experiment']} | {r['executor']} | {r['workers']} | {r['runs']} | "
                    f"{r['wall_seconds']:.1f} | {r['sweep_seconds']:.1f} | "
                    f"{r.get('startup_seconds', 0.0):.1f} | {r['runs_per_second']:.2f} | {eff} | {slow} |"
                )
            lines.append("")

    if memory := results.get("memory"):
        lines += ["## (d) Memory per resident", "", _conditions(memory), "", memory["method"] + ".", ""]
        lines += [
            "| Residents | Steps | RSS after build MiB | Peak RSS MiB | Bytes / resident (built) "
            "| Bytes / resident (peak) | Within 2 GB | Run s |",
            "|---:|---:|---:|---:|---:|---:|---|---:|",
        ]
        for r in memory["rows"]:
            if "error" in r:
                lines.append(f"| {r['residents']:,} | {r['steps']} | failed ||||||")
                continue
            lines.append(
                f"| {r['residents']:,} | {r['steps']} | {r['rss_after_build_bytes'] / 2**20:,.0f} | "
                f"{r['peak_rss_bytes'] / 2**20:,.0f} | {r['bytes_per_resident_built']:,.0f} | "
                f"{r['bytes_per_resident_peak']:,.0f} | {'yes' if r['within_2gb'] else 'NO'} | "
                f"{r['run_seconds']:.1f} |"
            )
        if memory.get("note"):
            lines += ["", memory["note"]]
        lines.append("")

    if dash := results.get("dashboard"):
        lines += ["## (e) Dashboard steps per second while playing (browser)", ""]
        if dash.get("skipped") or dash.get("placeholder"):
            lines += [dash.get("skipped") or dash.get("note", ""), ""]
        else:
            lines += [_conditions(dash), "", f"{dash['browser']}: {dash['method']}.", ""]
            lines += [
                "| Residents | Browser months/s (median; min-max) | Headless steps/s | Browser / headless "
                "| Repeats |",
                "|---:|---:|---:|---:|---:|",
            ]
            for r in dash["rows"]:
                low, high = r["steps_per_second_spread"]
                lines.append(
                    f"| {r['residents']:,} | {r['steps_per_second']:.1f} ({low:.1f}-{high:.1f}) | "
                    f"{r['headless_steps_per_second']:.1f} | {r['browser_over_headless']:.2f} | "
                    f"{r['repeats']} |"
                )
            if "page_seconds" in dash:
                low, high = dash["page_seconds_spread"]
                lines += [
                    "",
                    f"Time to a usable page (new browser context, until the month counter is drawn): "
                    f"{dash['page_seconds']:.2f} s (median; {low:.2f}-{high:.2f}); the first opening "
                    f"after the server started: {dash['page_seconds_first']:.2f} s.",
                ]
            cut = [f"{r['residents']:,}" for r in dash["rows"] if r.get("horizon_reached")]
            if cut:
                lines += ["", f"The run reached its last month within a window at {', '.join(cut)} residents"]
            if dash.get("server_errors"):
                lines += ["", "The server's log had a traceback during the measurement."]
            lines.append("")

    if ws := results.get("workshop"):
        lines += ["## (i) Workshop mode: a room of participants' browsers on one server (issue 17)", ""]
        if ws.get("skipped"):
            lines += [_conditions(ws), "", ws["skipped"], ""]
        else:
            low, high = ws["join_page_seconds_spread"]
            stored = ws["stored"]
            lines += [
                _conditions(ws),
                "",
                f"{ws['browser']}: {ws['method']}. {ws['residents']:,} residents ({ws['scenario']}), "
                f"{ws['participants']} participants and the facilitator, {ws['rounds']} rounds of "
                f"{ws['months_per_round']} months.",
                "",
                "| Round | Pages showing the new month | Slowest page s | Median page s | Facilitator s "
                "| Server closed the round s | CPU s: server / browsers | Choosing took s |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|",
            ]
            for r in ws["rows"]:
                cells = [
                    "-" if r.get(k) is None else f"{r[k]:.2f}"
                    for k in ("max_seconds", "median_seconds", "facilitator_seconds", "server_close_seconds")
                ]
                cpu = (
                    f"{r['server_cpu_seconds']:.2f} / {r['browsers_cpu_seconds']:.2f}"
                    if "server_cpu_seconds" in r
                    else "-"
                )
                lines.append(
                    f"| {r['round']} | {r['pages_shown']} of {r['pages']} | {' | '.join(cells)} | {cpu} | "
                    f"{r['choosing_seconds']:.0f} |"
                )
            worst = ws.get("max_seconds_median")
            lines += [
                "",
                "Median over the rounds of the slowest page: "
                + ("-" if worst is None else f"{worst:.2f} s")
                + (
                    f" (goal under {ws['goal_seconds']:g} s: {'met' if ws['goal_met'] else 'NOT met'}). "
                    if ws["participants"] >= 50
                    else f" (the goal is for 50 participants: not judged with {ws['participants']}). "
                )
                + "Seconds are from the moment the last participant's click landed; \"server closed the "
                "round\" is the round's closing time in the record (the facilitator page's refresh thread, "
                "woken by the last choice, then playing the months). CPU seconds are those the server's "
                "processes and chromium's used from just before the last click until every page had drawn "
                "the new month (read within 0.5 s of that): on a machine with "
                f"{ws['cores']} cores, wall time cannot be less than their sum over {ws['cores']}.",
                "",
                f"Join page usable (new browser context, until the join code's field is editable): "
                f"{ws['join_page_seconds']:.2f} s (median; {low:.2f}-{high:.2f}); the first opening after "
                f"the server started: {ws['join_page_seconds_first']:.2f} s. All {ws['participants']} "
                f"joined in {ws['join_all_seconds']:.0f} s.",
                "",
                f"Server memory: {ws['server_rss_before_bytes'] / 2**20:,.0f} MiB with the facilitator's "
                f"page, {ws['server_rss_after_bytes'] / 2**20:,.0f} MiB with everyone joined: "
                f"{ws['server_bytes_per_participant'] / 2**20:.1f} MiB per participant.",
                "",
                f"Choices: {stored['human_rows']} stored as human of {stored['choices_made']} made "
                f"({ws['participants']} x {ws['rounds']}); {stored['lost']} lost, {stored['doubled']} "
                f"doubled, {stored['altered']} stored other than sent, {stored['simulated_for_a_chooser']} "
                f"recorded as simulated for a participant who chose: "
                + ("none lost." if ws["none_lost"] else "CHOICES LOST OR WRONG."),
            ]
            if ws.get("server_errors"):
                last = (ws.get("server_first_traceback") or "").strip().splitlines()[-1:]
                lines += [
                    "",
                    f"The server's log had {ws.get('server_tracebacks', 'a')} traceback(s) during the "
                    "measurement" + (f"; the first ends: `{last[0]}`." if last else "."),
                ]
            lines.append("")

    if through := results.get("throughput"):
        lines += ["## (f) Runs per second per core (issue 18)", "", _conditions(through), ""]
        low, high = through["sweeps_per_run_spread"]
        base = through["baseline"]
        lines += [
            f"`{through['experiment']}`, {through['runs_timed']} of its runs in one process (each rebuilt "
            "from its parameters and simulated with its seed, as a sweep's worker does), beside one sweep "
            f"of the bare numpy Deffuant reference at n = 1,000 timed in the same repeat: "
            f"{through['yardstick_sweep_ms']:.4f} ms.",
            "",
            "| Seconds per run | Runs / s / core | Yardstick sweeps per run (min-max) "
            "| Baseline sweeps per run | Speed-up over baseline |",
            "|---:|---:|---:|---:|---:|",
            f"| {through['run_s']:.3f} | {through['runs_per_second_per_core']:.2f} | "
            f"{through['sweeps_per_run']:,.0f} ({low:,.0f}-{high:,.0f}) | {base['sweeps_per_run']:,.0f} "
            f"| {through['speedup_over_baseline']:.2f}x |",
            "",
            f"Baseline: {base['started']}, model code {base['code'].get('model_code_version', '?')} "
            "(`benchmarks/results/throughput_baseline.json`, kept across runs).",
            "",
        ]

    if scale := results.get("scaling"):
        lines += ["## (h) Sweep scaling to 16 workers (issue 18)", "", _conditions(scale), ""]
        if scale.get("skipped"):
            lines += [scale["skipped"] + ".", ""]
        else:
            lines += [
                f"`coprod sweep` of {scale['experiment']} at each worker count; efficiency T1/(p*Tp) on the "
                "whole command's clock / the runner's / the runs alone (less the workers' start-up).",
                "",
                "| Executor | Workers | Wall s | Start-up s | Efficiency (wall / sweep / runs) |",
                "|---|---:|---:|---:|---|",
            ]
            for r in scale["rows"]:
                if "wall_seconds" not in r:
                    lines.append(f"| {r['executor']} | {r['workers']} | failed ||||")
                    continue
                eff = " / ".join(
                    f"{r[k]:.2f}" if r.get(k) is not None else "-"
                    for k in ("efficiency_wall", "efficiency_sweep", "efficiency_runs")
                )
                lines.append(
                    f"| {r['executor']} | {r['workers']} | {r['wall_seconds']:.1f} | "
                    f"{r['startup_seconds']:.1f} | {eff if r['workers'] > 1 else ''} |"
                )
            lines.append("")

    if est := results.get("estimate"):
        lines += [
            "## (g) The sampled betweenness of `leadership_concentration`: cost against error (issue 18)",
            "",
            _conditions(est),
            "",
            f"Benchmark scenario at month {est['month']}; errors are means over {est['repeats']} pivot draws "
            "against the exact Gini (every node a pivot); the model reports the jackknifed estimate "
            f"({est['groups']} pivot groups); cost as a share of a step with one estimate every "
            f"{est['interval']} months.",
            "",
            "| Residents | Network nodes | Exact Gini | Pivots | Estimate ms | Share of step "
            "| Plain bias | Jackknife bias (s.d.) |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in est["rows"]:
            for p in r["pivots"]:
                lines.append(
                    f"| {r['residents']:,} | {r['nodes']:,} | {r['exact']:.3f} | {p['pivots']} | "
                    f"{p['estimate_ms']:.1f} | {p['share_of_step']:.1%} | {p['plain_bias']:+.3f} | "
                    f"{p['jackknife_bias']:+.3f} ({p['jackknife_sd']:.3f}) |"
                )
        lines += [
            "",
            f"The default city at 1,000 residents under each design at month {est['design_month']}, "
            f"{est['designs'][0]['pivots']} pivots, {est['design_draws']} draws (ODD 7.9's table):",
            "",
            "| Design | Network nodes | Exact Gini | Plain bias | Jackknife bias (s.d.) |",
            "|---|---:|---:|---:|---:|",
        ]
        for d in est["designs"]:
            lines.append(
                f"| {d['design']} | {d['nodes']:,} | {d['exact']:.3f} | {d['plain_bias']:+.3f} | "
                f"{d['jackknife_bias']:+.3f} ({d['jackknife_sd']:.3f}) |"
            )
        lines.append("")

    if prof := results.get("profile"):
        lines += ["## Profile of the model step (cProfile, own time per step)", "", _conditions(prof), ""]
        for r in prof["rows"]:
            lines += [
                f"{r['residents']:,} residents ({r['profiled_ms_per_step']:.0f} ms per step under the "
                f"profiler; full listing `{r['listing']}`):",
                "",
                "| Where | Calls / step | Own ms / step | Cumulative ms / step |",
                "|---|---:|---:|---:|",
            ]
            for t in r["top_own_time"][:10]:
                lines.append(
                    f"| `{t['where']}` | {t['calls_per_step']:,.0f} | {t['own_ms_per_step']:.2f} | "
                    f"{t['cumulative_ms_per_step']:.2f} |"
                )
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
