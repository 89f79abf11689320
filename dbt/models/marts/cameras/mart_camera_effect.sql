{#- Difference in differences per camera position and offence class.

    Treated area: within 150 m of the camera and of no other camera position
    (int_camera_offence_pairs.is_in_shared_coverage: in an overlap the change may be
    the other camera's doing). Control area: the 500–1,000 m ring around
    the same camera (same neighbourhood, beyond the 150–400 m ring where displacement
    would land, so displaced offences do not flatter the estimate), less the coverage
    of every camera position (int_camera_offence_pairs.is_in_any_coverage: another
    camera's effect would leak into the control). Windows: the 12
    months before the position was taken (installation or move) and the 12 months
    after, cut at the next move or removal and at the data horizon; rates are per day,
    so unequal windows compare fairly.

    Effect: the rate ratio RR = (T_after/T_before) / (C_after/C_before) (per-day rates;
    below 1 = fewer offences near the camera than the surroundings' trend predicts), with
    a 95 % interval exp(log RR ± 1.96 √(1/T_b + 1/T_a + 1/C_b + 1/C_a)) (Poisson counts;
    0.5 added to every cell when one is zero). "Enough data" (stated rule): at least 10
    treated offences over both windows, at least 10 control offences in each window, and
    both windows at least 180 days long; the estimate is given regardless, flagged.
    `is_local_shift`: the neighbourhood itself changed between the windows — the
    camera's grid cell entered or left the class's 95 % Gi* hotspots (mart_hotspots) in
    the years the windows span, or the 150–400 m ring's count moved against the control
    beyond chance (95 %; displacement moves it by a few per cent at most). A hotspot
    moving onto or off the camera changes its counts whatever the camera does
    (regression to the mean), so such estimates are flagged and left out of the pooled
    mart; the flag is null where the camera's cell has no hotspot reading and the
    ring did not move (the mart cannot tell).

    Power: `mde_reduction_pct`, the smallest reduction the two-sided 5 % test finds with
    80 % power, 100 (1 − exp(−2.8 SE)) with SE the interval's (macros/power.sql).
    Verdict (`effect_verdict`), first rule that applies:
      too_few_to_tell        not `has_enough_data` (too few counts to trust the interval)
      neighbourhood_changed  `is_local_shift`: the estimate says nothing about the camera
      effect_found           the interval lies below 1
      increase_found         the interval lies above 1
      too_few_to_tell        `mde_reduction_pct` above var effect_mde_ceiling_pct: power
                             inadequate to read "no effect"
      no_effect_detectable   no reduction of at least `mde_reduction_pct` % (power adequate) -#}
with positions as (
    select * from {{ ref('dim_camera_point') }}
),

-- the first window after the position against the window before, per offence class
counts as (
    select * from {{ ref('int_camera_offences_counted') }}
    where period_no = 1 and offence_scope <> 'instrumental'
),

context as (
    select * from {{ ref('int_camera_position_context') }}
),

hotspots as (
    select
        offence_class,
        period_year,
        cell_id,
        is_hotspot_95
    from {{ ref('mart_hotspots') }}
),

combined as (
    select
        counts.camera_point_version_id,
        counts.camera_point_id,
        positions.position_no,
        counts.offence_scope as offence_class,
        counts.effect_start_date,
        counts.before_start,
        counts.after_end,
        counts.before_days,
        counts.after_days,
        counts.has_long_windows,
        counts.coverage_before as treated_before,
        counts.coverage_after as treated_after,
        counts.control_before,
        counts.control_after,
        counts.buffer_before as ring_before,
        counts.buffer_after as ring_after
    from counts
    inner join positions on counts.camera_point_version_id = positions.camera_point_version_id
),

estimated as (
    select
        *,
        least(treated_before, treated_after, control_before, control_after) = 0 as is_zero_corrected,
        case when least(treated_before, treated_after, control_before, control_after) = 0 then 0.5 else 0 end
            as k
    from combined
),

logged as (
    select
        *,
        {{ log_rate_ratio('treated_after', 'treated_before', 'control_after', 'control_before', k='k') }}
            as log_rate_ratio,
        {{ log_rate_ratio_se('treated_after', 'treated_before', 'control_after', 'control_before', k='k') }}
            as log_rate_ratio_se
    from estimated
),

-- did the camera's grid cell become, or stop being, a 95 % hotspot of the class over the
-- years the two windows span? Then a moving hotspot, not the camera, may drive the change
shifts as (
    select
        logged.camera_point_version_id,
        logged.offence_class,
        count(distinct hotspots.is_hotspot_95) > 1 as is_hotspot_shift
    from logged
    inner join positions on logged.camera_point_version_id = positions.camera_point_version_id
    inner join hotspots
        on logged.offence_class = hotspots.offence_class
            and hotspots.cell_id = 'E' || floor(positions.easting_m / {{ var('grid_cell_m') }})::integer
            || 'N' || floor(positions.northing_m / {{ var('grid_cell_m') }})::integer
            and hotspots.period_year between year(logged.before_start) and year(logged.after_end - interval 1 day)
    group by all
),

judged as (
    select
        logged.camera_point_version_id,
        logged.camera_point_id,
        logged.position_no::integer as position_no,
        logged.offence_class,
        context.area_type,
        logged.effect_start_date,
        logged.before_days::integer as before_days,
        logged.after_days::integer as after_days,
        logged.treated_before,
        logged.treated_after,
        logged.control_before,
        logged.control_after,
        exp(logged.log_rate_ratio) as rate_ratio,
        exp(logged.log_rate_ratio - 1.959964 * logged.log_rate_ratio_se) as rate_ratio_ci_low,
        exp(logged.log_rate_ratio + 1.959964 * logged.log_rate_ratio_se) as rate_ratio_ci_high,
        logged.is_zero_corrected,
        logged.treated_before + logged.treated_after >= 10
        and logged.control_before >= 10
        and logged.control_after >= 10
        and logged.has_long_windows as has_enough_data,
        {{ mde_reduction_pct('logged.log_rate_ratio_se') }} as mde_reduction_pct,
        -- null where the cell has no hotspot reading and the ring did not move: not judged
        shifts.is_hotspot_shift
        -- the 150–400 m ring moved against the control beyond chance: far more than
        -- displacement (a few per cent) could explain, so the neighbourhood itself changed
        or abs({{ log_rate_ratio('logged.ring_after', 'logged.ring_before',
                                     'logged.control_after', 'logged.control_before') }})
        > 1.959964 * {{ log_rate_ratio_se('logged.ring_after', 'logged.ring_before',
                                                 'logged.control_after', 'logged.control_before') }}
            as is_local_shift
    from logged
    inner join context on logged.camera_point_version_id = context.camera_point_version_id
    left join shifts
        on logged.camera_point_version_id = shifts.camera_point_version_id
            and logged.offence_class = shifts.offence_class
),

final as (
    select
        *,
        case
            when not has_enough_data then 'too_few_to_tell'
            when is_local_shift then 'neighbourhood_changed'
            when rate_ratio_ci_high < 1 then 'effect_found'
            when rate_ratio_ci_low > 1 then 'increase_found'
            when mde_reduction_pct > {{ var('effect_mde_ceiling_pct') }} then 'too_few_to_tell'
            else 'no_effect_detectable'
        end as effect_verdict
    from judged
)

select * from final
