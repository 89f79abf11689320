{#- Where did the offences go? The Weighted Displacement Quotient (Bowers & Johnson 2003)
    per camera position, period and offence scope.

    Areas around the camera: A, the coverage (≤ 150 m, less what another position also
    covers: int_camera_offence_pairs.is_in_shared_coverage); B, the buffer ring where
    displaced offences would land (150–400 m); C, the control ring (500–1,000 m) less
    every camera's coverage (int_camera_offence_pairs.is_in_any_coverage).
    Periods: the 12 months before the position was taken against each later year
    (`period_no` 1 = first 12 months after, 2 = the next, ...), cut at the next move or
    removal and at the data horizon. Scopes: each offence class, and `instrumental`
    (property and public order together: the planned acts that displace).

      success measure   SM  = A_a/C_a − A_b/C_b        (< 0: fewer offences in coverage)
      buffer measure    BDM = B_a/C_a − B_b/C_b        (> 0: more offences in the ring)
      WDQ               = BDM / SM                      (only read when SM < 0)

    Standard reading: WDQ > 1 diffusion of benefits greater than the direct effect;
    0 < WDQ ≤ 1 diffusion of benefits; −1 ≤ WDQ < 0 displacement smaller than the
    direct effect; WDQ < −1 displacement greater than the direct effect; SM ≥ 0 no
    success to weigh. Because a quotient of noisy differences can take any sign by
    chance, the ring's own change against the control, (B_a/B_b)/(C_a/C_b), is given
    with a 95 % Poisson interval and `is_displacement_significant` is true only when
    that interval lies above 1 while the coverage fell (SM < 0).

    Power: `mde_ring_rise_pct`, the smallest rise of the ring against the control that
    the one-sided 2.5 % test finds with 80 % power, 100 (exp(2.8 SE) − 1)
    (macros/power.sql). Verdict (`displacement_verdict`), first rule that applies:
      no_control_data          a control window is empty: nothing to weigh
      no_success_to_weigh      the coverage did not fall (SM ≥ 0): nothing was displaced
      displacement_found       the ring's interval lies above 1
      diffusion_found          the ring's interval lies below 1 (benefits spread)
      too_few_to_tell          `mde_ring_rise_pct` above `full_displacement_rise_pct`, the
                               rise the ring would show had every offence the coverage
                               lost moved into it: a test blind to total displacement
                               cannot rule any out
      no_displacement_detectable  no rise of at least `mde_ring_rise_pct` % (power adequate)
    `is_displacement_significant` is true for displacement_found, false for
    diffusion_found and no_displacement_detectable, and null where the mart cannot
    judge (the other three).

    `ring_uncovered_*` count the ring's offences outside every camera's coverage: the
    local control of mart_effect_decay, which must follow the neighbourhood's own drift. -#}
with counts as (
    -- a period needs a year of "before" data and at least half a year of "after"
    select * from {{ ref('int_camera_offences_counted') }}
    where has_long_windows and has_paired_offences
),

measured as (
    select
        camera_point_version_id,
        camera_point_id,
        period_no,
        offence_scope,
        effect_start_date,
        before_start,
        after_start,
        after_end,
        coverage_before,
        coverage_after,
        buffer_before,
        buffer_after,
        ring_uncovered_before,
        ring_uncovered_after,
        control_before,
        control_after,
        -- control-normalised changes; null when a control window is empty
        coverage_after / nullif(control_after, 0)
        - coverage_before / nullif(control_before, 0) as success_measure,
        buffer_after / nullif(control_after, 0)
        - buffer_before / nullif(control_before, 0) as buffer_displacement_measure,
        {{ log_rate_ratio('buffer_after', 'buffer_before', 'control_after', 'control_before') }} as log_buffer_ratio,
        {{ log_rate_ratio_se('buffer_after', 'buffer_before', 'control_after', 'control_before') }}
            as log_buffer_ratio_se,
        -- the offences the coverage lost against the control's trend, as a share of the ring's
        -- expected count: the ring's rise (%) if all of them had moved there
        100 * (coverage_before * control_after / nullif(control_before, 0) - coverage_after)
        / nullif(buffer_before * control_after / nullif(control_before, 0), 0) as full_displacement_rise_pct
    from counts
),

judged as (
    select
        -- the counts and the measures, as measured lists them
        * exclude (log_buffer_ratio, log_buffer_ratio_se),
        case when success_measure < 0 then buffer_displacement_measure / success_measure end
            as weighted_displacement_quotient,
        exp(log_buffer_ratio) as buffer_rate_ratio,
        exp(log_buffer_ratio - 1.959964 * log_buffer_ratio_se) as buffer_rate_ratio_ci_low,
        exp(log_buffer_ratio + 1.959964 * log_buffer_ratio_se) as buffer_rate_ratio_ci_high,
        case
            when success_measure is null then 'no control data'
            when success_measure >= 0 then 'no success to weigh'
            when buffer_displacement_measure / success_measure > 1 then 'diffusion greater than direct effect'
            when buffer_displacement_measure / success_measure > 0 then 'diffusion of benefits'
            when buffer_displacement_measure / success_measure = 0 then 'no displacement or diffusion'
            when buffer_displacement_measure / success_measure >= -1 then 'displacement smaller than direct effect'
            else 'displacement greater than direct effect'
        end as reading,
        {{ mde_rise_pct('log_buffer_ratio_se') }} as mde_ring_rise_pct,
        case
            when success_measure is null then 'no_control_data'
            when success_measure >= 0 then 'no_success_to_weigh'
            when log_buffer_ratio - 1.959964 * log_buffer_ratio_se > 0 then 'displacement_found'
            when log_buffer_ratio + 1.959964 * log_buffer_ratio_se < 0 then 'diffusion_found'
            -- no ring count to weigh against (null) is as blind as a test too weak for it
            when coalesce({{ mde_rise_pct('log_buffer_ratio_se') }} > full_displacement_rise_pct, true)
                then 'too_few_to_tell'
            else 'no_displacement_detectable'
        end as displacement_verdict
    from measured
),

final as (
    select
        *,
        case displacement_verdict
            when 'displacement_found' then true
            when 'diffusion_found' then false
            when 'no_displacement_detectable' then false
        end as is_displacement_significant
    from judged
)

select * from final
