{#- Do offences migrate? Displacement pooled over camera positions by kind of place and
    offence scope, in the first year after each position was taken: the city's question
    answered at the level the data resolve, where no single camera's ring can (a ring
    six times the coverage's area hides a few per cent of displaced offences in its
    Poisson noise; mart_displacement says `too_few_to_tell` for almost every position).

    Pooling (macros/pooled_ratio.sql, as mart_camera_effect_by_area): per position the
    expected count after in the coverage, E_A = A_b × C_a / C_b, and in the ring,
    E_B = B_b × C_a / C_b; pooled coverage RR = ΣA_a / ΣE_A and ring RR = ΣB_a / ΣE_B,
    each with a 95 % quasi-Poisson interval (dispersion φ from the positions' scatter).
    Pooled WDQ = (ΣB_a − ΣE_B) / (ΣA_a − ΣE_A), the Bowers & Johnson quotient in counts
    (negative: displacement; positive: diffusion of benefits), with a delta-method 95 %
    interval (Var N + W² Var D − 2 W Cov(N, D)) / D², the shared control ratio giving the
    covariance; read only when the coverage's fall is resolved (its interval below 1).

    Verdict (`displacement_verdict`), first rule that applies:
      no_effect_to_displace       the coverage's fall is not resolved: nothing to weigh
      displacement_found          the ring's interval lies above 1
      diffusion_found             the ring's interval lies below 1
      too_few_to_tell             the ring's MDE at 80 % power (one-sided 2.5 %) is above
                                  the rise total displacement would cause
      no_displacement_detectable  no rise of at least `mde_ring_rise_pct` %

    Placebo: offence classes cameras are not meant to deter (var
    placebo_offence_classes: traffic) are pooled the same way; where their coverage or
    ring ratio moves beyond chance, the design is reading the neighbourhood rather than
    the camera and `placebo_verdict` (on every row of that kind of place) says
    `placebo_fails`: read that place's other verdicts with caution. Only the Security
    Department's monitoring points (city_monitoring, multisensor) are pooled. -#}
with periods as (
    select * from {{ ref('mart_displacement') }}
    where period_no = 1
),

positions as (
    select * from {{ ref('dim_camera_point') }}
),

context as (
    select * from {{ ref('int_camera_position_context') }}
),

eligible as (
    select
        context.area_type,
        periods.offence_scope,
        periods.coverage_before,
        periods.coverage_after,
        periods.buffer_before,
        periods.buffer_after,
        periods.control_before,
        periods.control_after,
        periods.coverage_before * periods.control_after / periods.control_before as coverage_expected,
        periods.buffer_before * periods.control_after / periods.control_before as buffer_expected
    from periods
    inner join positions on periods.camera_point_version_id = positions.camera_point_version_id
    inner join context on periods.camera_point_version_id = context.camera_point_version_id
    where positions.camera_kind in ('city_monitoring', 'multisensor')
        and periods.control_before > 0
),

scattered as (
    select
        *,
        {{ pearson_term('coverage_after', 'coverage_expected', 'area_type, offence_scope') }} as coverage_pearson,
        {{ pearson_term('buffer_after', 'buffer_expected', 'area_type, offence_scope') }} as buffer_pearson
    from eligible
),

pooled as (
    select
        area_type,
        offence_scope,
        count(*) as camera_positions,
        sum(coverage_before) as coverage_before,
        sum(coverage_after) as coverage_after,
        sum(coverage_expected) as coverage_expected_after,
        sum(buffer_before) as buffer_before,
        sum(buffer_after) as buffer_after,
        sum(buffer_expected) as buffer_expected_after,
        sum(control_before) as control_before,
        sum(control_after) as control_after,
        {{ dispersion('sum(coverage_pearson)', 'count(coverage_pearson)') }} as coverage_dispersion,
        {{ dispersion('sum(buffer_pearson)', 'count(buffer_pearson)') }} as buffer_dispersion
    from scattered
    group by area_type, offence_scope
),

corrected as (
    -- 0.5 added to every count of a ratio when one of them is zero
    select
        *,
        {{ zero_k('coverage_after', 'coverage_before', 'control_after', 'control_before') }} as coverage_k,
        {{ zero_k('buffer_after', 'buffer_before', 'control_after', 'control_before') }} as buffer_k
    from pooled
),

logged as (
    select
        *,
        ln((coverage_after + coverage_k) / (coverage_expected_after + coverage_k)) as coverage_log_rr,
        {{ pooled_log_rr_se('coverage_after', 'coverage_before', 'control_after', 'control_before',
                            'coverage_dispersion') }} as coverage_log_rr_se,
        ln((buffer_after + buffer_k) / (buffer_expected_after + buffer_k)) as buffer_log_rr,
        {{ pooled_log_rr_se('buffer_after', 'buffer_before', 'control_after', 'control_before',
                            'buffer_dispersion') }} as buffer_log_rr_se,
        -- N and D of the quotient, and the pieces of their variances
        buffer_after - buffer_expected_after as ring_excess,
        coverage_after - coverage_expected_after as coverage_excess,
        1.0 / nullif(control_after, 0) + 1.0 / nullif(control_before, 0) as control_log_var
    from corrected
),

quotients as (
    select
        *,
        ring_excess / nullif(coverage_excess, 0) as wdq,
        buffer_dispersion * buffer_after
        + pow(buffer_expected_after, 2) * (buffer_dispersion / nullif(buffer_before, 0) + control_log_var)
            as ring_excess_var,
        coverage_dispersion * coverage_after
        + pow(coverage_expected_after, 2) * (coverage_dispersion / nullif(coverage_before, 0) + control_log_var)
            as coverage_excess_var,
        buffer_expected_after * coverage_expected_after * control_log_var as excess_cov,
        -- the ring's rise (%) had every offence the coverage lost moved into it
        100 * (coverage_expected_after - coverage_after) / nullif(buffer_expected_after, 0)
            as full_displacement_rise_pct
    from logged
),

judged as (
    select
        *,
        sqrt(greatest(0, ring_excess_var + pow(wdq, 2) * coverage_excess_var - 2 * wdq * excess_cov))
        / abs(coverage_excess) as wdq_se,
        coverage_log_rr + 1.959964 * coverage_log_rr_se < 0 as is_coverage_fall_resolved,
        {{ mde_rise_pct('buffer_log_rr_se') }} as mde_ring_rise_pct,
        offence_scope in (
            {%- for c in var('placebo_offence_classes') %}'{{ c }}'{{ ", " if not loop.last }}{% endfor -%}
        ) as is_placebo_scope
    from quotients
),

verdicts as (
    select
        *,
        case
            when not is_coverage_fall_resolved then 'no_effect_to_displace'
            when buffer_log_rr - 1.959964 * buffer_log_rr_se > 0 then 'displacement_found'
            when buffer_log_rr + 1.959964 * buffer_log_rr_se < 0 then 'diffusion_found'
            when coalesce(mde_ring_rise_pct > full_displacement_rise_pct, true) then 'too_few_to_tell'
            else 'no_displacement_detectable'
        end as displacement_verdict,
        -- a class cameras do not deter moved beyond chance in the coverage or the ring
        case when is_placebo_scope then
                abs(coverage_log_rr) > 1.959964 * coverage_log_rr_se
                or abs(buffer_log_rr) > 1.959964 * buffer_log_rr_se
        end as is_placebo_moved
    from judged
),

placebo as (
    select
        area_type,
        case when bool_or(is_placebo_moved) then 'placebo_fails' else 'placebo_passes' end as placebo_verdict
    from verdicts
    where is_placebo_scope
    group by area_type
),

final as (
    select
        verdicts.area_type,
        verdicts.offence_scope,
        verdicts.is_placebo_scope,
        verdicts.camera_positions::integer as camera_positions,
        verdicts.coverage_before::bigint as coverage_before,
        verdicts.coverage_after::bigint as coverage_after,
        verdicts.coverage_expected_after,
        verdicts.buffer_before::bigint as buffer_before,
        verdicts.buffer_after::bigint as buffer_after,
        verdicts.buffer_expected_after,
        verdicts.control_before::bigint as control_before,
        verdicts.control_after::bigint as control_after,
        exp(verdicts.coverage_log_rr) as coverage_rate_ratio,
        exp(verdicts.coverage_log_rr - 1.959964 * verdicts.coverage_log_rr_se) as coverage_rate_ratio_ci_low,
        exp(verdicts.coverage_log_rr + 1.959964 * verdicts.coverage_log_rr_se) as coverage_rate_ratio_ci_high,
        exp(verdicts.buffer_log_rr) as buffer_rate_ratio,
        exp(verdicts.buffer_log_rr - 1.959964 * verdicts.buffer_log_rr_se) as buffer_rate_ratio_ci_low,
        exp(verdicts.buffer_log_rr + 1.959964 * verdicts.buffer_log_rr_se) as buffer_rate_ratio_ci_high,
        verdicts.coverage_dispersion,
        verdicts.buffer_dispersion,
        -verdicts.coverage_excess as offences_lost_in_coverage,
        verdicts.ring_excess as offences_gained_in_ring,
        case when verdicts.is_coverage_fall_resolved then verdicts.wdq end as weighted_displacement_quotient,
        case when verdicts.is_coverage_fall_resolved then verdicts.wdq - 1.959964 * verdicts.wdq_se end
            as wdq_ci_low,
        case when verdicts.is_coverage_fall_resolved then verdicts.wdq + 1.959964 * verdicts.wdq_se end
            as wdq_ci_high,
        verdicts.full_displacement_rise_pct,
        verdicts.mde_ring_rise_pct,
        verdicts.displacement_verdict,
        placebo.placebo_verdict
    from verdicts
    left join placebo on verdicts.area_type = placebo.area_type
)

select * from final
