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

    `ring_uncovered_*` count the ring's offences outside every camera's coverage: the
    local control of mart_effect_decay, which must follow the neighbourhood's own drift. -#}
with positions as (
    select * from {{ ref('dim_camera_point') }}
),

pairs as (
    select * from {{ ref('int_camera_offence_pairs') }}
),

horizon as (
    select min(occurred_date) as first_day, max(occurred_date) as last_day from {{ ref('fct_incident') }}
),

periods as (
    select
        positions.camera_point_version_id,
        positions.camera_point_id,
        positions.valid_from as effect_start_date,
        period_no,
        greatest((positions.valid_from - interval 365 day)::date, horizon.first_day) as before_start,
        positions.valid_from as before_end,
        (positions.valid_from + to_days(365 * (period_no - 1)))::date as after_start,
        least(positions.valid_from + to_days(365 * period_no),
              coalesce(positions.valid_to, date '9999-12-31'),
              horizon.last_day + interval 1 day)::date as after_end
    from positions
    cross join horizon
    cross join generate_series(1, 8) as p(period_no)
),

open_periods as (
    -- a period needs a year of "before" data and at least half a year of "after"
    select *
    from periods
    where date_diff('day', after_start, after_end) >= 180
        and date_diff('day', before_start, before_end) >= 180
),

scoped as (
    select *, offence_class as offence_scope from pairs where offence_class <> 'unclassified'
    union all
    select *, 'instrumental' as offence_scope from pairs where offence_class in ('instrumental_property', 'public_order')
),

counted as (
    select
        open_periods.camera_point_version_id,
        open_periods.period_no,
        scoped.offence_scope,
        count(*) filter (where scoped.distance_m <= 150 and not scoped.is_in_shared_coverage
                         and scoped.occurred_date < open_periods.before_end
                         and scoped.occurred_date >= open_periods.before_start) as coverage_before,
        count(*) filter (where scoped.distance_m <= 150 and not scoped.is_in_shared_coverage
                         and scoped.occurred_date >= open_periods.after_start
                         and scoped.occurred_date < open_periods.after_end) as coverage_after,
        count(*) filter (where scoped.distance_m > 150 and scoped.distance_m <= 400
                         and scoped.occurred_date < open_periods.before_end
                         and scoped.occurred_date >= open_periods.before_start) as buffer_before,
        count(*) filter (where scoped.distance_m > 150 and scoped.distance_m <= 400
                         and scoped.occurred_date >= open_periods.after_start
                         and scoped.occurred_date < open_periods.after_end) as buffer_after,
        count(*) filter (where scoped.distance_m > 150 and scoped.distance_m <= 400
                         and not scoped.is_in_any_coverage
                         and scoped.occurred_date < open_periods.before_end
                         and scoped.occurred_date >= open_periods.before_start) as ring_uncovered_before,
        count(*) filter (where scoped.distance_m > 150 and scoped.distance_m <= 400
                         and not scoped.is_in_any_coverage
                         and scoped.occurred_date >= open_periods.after_start
                         and scoped.occurred_date < open_periods.after_end) as ring_uncovered_after,
        count(*) filter (where scoped.distance_m >= 500 and not scoped.is_in_any_coverage
                         and scoped.occurred_date < open_periods.before_end
                         and scoped.occurred_date >= open_periods.before_start) as control_before,
        count(*) filter (where scoped.distance_m >= 500 and not scoped.is_in_any_coverage
                         and scoped.occurred_date >= open_periods.after_start
                         and scoped.occurred_date < open_periods.after_end) as control_after
    from open_periods
    inner join scoped on scoped.camera_point_version_id = open_periods.camera_point_version_id
    group by all
),

measured as (
    select
        open_periods.camera_point_version_id,
        open_periods.camera_point_id,
        open_periods.period_no,
        counted.offence_scope,
        open_periods.effect_start_date,
        open_periods.before_start,
        open_periods.after_start,
        open_periods.after_end,
        counted.coverage_before,
        counted.coverage_after,
        counted.buffer_before,
        counted.buffer_after,
        counted.ring_uncovered_before,
        counted.ring_uncovered_after,
        counted.control_before,
        counted.control_after,
        -- control-normalised changes; null when a control window is empty
        counted.coverage_after / nullif(counted.control_after, 0)
            - counted.coverage_before / nullif(counted.control_before, 0) as success_measure,
        counted.buffer_after / nullif(counted.control_after, 0)
            - counted.buffer_before / nullif(counted.control_before, 0) as buffer_displacement_measure,
        {{ log_rate_ratio('counted.buffer_after', 'counted.buffer_before',
                          'counted.control_after', 'counted.control_before') }} as log_buffer_ratio,
        {{ log_rate_ratio_se('counted.buffer_after', 'counted.buffer_before',
                             'counted.control_after', 'counted.control_before') }} as log_buffer_ratio_se
    from counted
    inner join open_periods
        on open_periods.camera_point_version_id = counted.camera_point_version_id
        and open_periods.period_no = counted.period_no
),

final as (
    select
        camera_point_version_id,
        camera_point_id,
        period_no::integer as period_no,
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
        success_measure,
        buffer_displacement_measure,
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
        coalesce(success_measure < 0
                 and log_buffer_ratio - 1.959964 * log_buffer_ratio_se > 0, false) as is_displacement_significant
    from measured
)

select * from final
