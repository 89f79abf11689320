{#- The deterrence effect pooled over camera positions by kind of place and offence
    class: the question the city asks ("does a camera deter property crime at a transit
    node?"), answerable even where one camera's counts are too small.

    Pooling (indirect standardisation over the per-position differences in differences
    of mart_camera_effect): each position's expected treated count after, had the
    surroundings' trend applied, is E = T_before × C_after / C_before (its own windows, so
    unequal window lengths cancel); RR = ΣT_after / ΣE, with a 95 % quasi-Poisson
    interval exp(log RR ± 1.96 √(φ (1/ΣT_a + 1/ΣT_b + 1/ΣC_a + 1/ΣC_b))), where the
    dispersion φ (Pearson χ² of the positions' T_after around E × RR, per degree of
    freedom, at least 1) widens it when places differ more than Poisson counts would. Positions
    with both windows at least 180 days long and at least one control offence before
    take part, unless a hotspot moved onto or off the camera meanwhile
    (mart_camera_effect.is_local_shift; where that is not judged, the position takes
    part). Kinds of place: int_camera_position_context. Only the Security
    Department's monitoring points (city_monitoring, multisensor) are judged; ANPR and
    traffic-control cameras are not meant to deter. -#}
with effects as (
    select * from {{ ref('mart_camera_effect') }}
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
        effects.offence_class,
        effects.treated_before,
        effects.treated_after,
        effects.control_before,
        effects.control_after,
        effects.treated_before * effects.control_after / effects.control_before as expected_after
    from effects
    inner join positions on effects.camera_point_version_id = positions.camera_point_version_id
    inner join context on effects.camera_point_version_id = context.camera_point_version_id
    where positions.camera_kind in ('city_monitoring', 'multisensor')
        -- a position whose neighbourhood could not be checked (null) takes part
        and effects.is_local_shift is distinct from true
        and effects.before_days >= {{ var('min_window_days') }}
        and effects.after_days >= {{ var('min_window_days') }}
        and effects.control_before > 0
),

pooled as (
    select
        area_type,
        offence_class,
        count(*) as camera_positions,
        sum(treated_before) as treated_before,
        sum(treated_after) as treated_after,
        sum(control_before) as control_before,
        sum(control_after) as control_after,
        sum(expected_after) as expected_after
    from eligible
    group by area_type, offence_class
),

-- quasi-Poisson: how much more the positions scatter around the pooled ratio than
-- Poisson counts would (Pearson χ² / degrees of freedom, at least 1)
dispersion as (
    select
        eligible.area_type,
        eligible.offence_class,
        -- the Pearson χ² of the positions around the pooled ratio over its degrees of freedom
        greatest(
            1.0,
            coalesce(
                sum(
                    pow(
                        eligible.treated_after - eligible.expected_after * pooled.treated_after / pooled.expected_after,
                        2
                    )
                    / (eligible.expected_after * pooled.treated_after / pooled.expected_after)
                ) filter (where eligible.expected_after * pooled.treated_after > 0)
                / nullif(count(*) filter (where eligible.expected_after * pooled.treated_after > 0) - 1, 0),
                1.0
            )
        ) as dispersion
    from eligible
    inner join pooled
        on eligible.area_type = pooled.area_type and eligible.offence_class = pooled.offence_class
    where pooled.expected_after > 0
    group by eligible.area_type, eligible.offence_class
),

corrected as (
    select
        pooled.*,
        coalesce(dispersion.dispersion, 1.0) as dispersion,
        -- 0.5 added to every count for the interval when one is zero (as in mart_camera_effect)
        case
            when least(pooled.treated_before, pooled.treated_after, pooled.control_before, pooled.control_after) = 0
                then 0.5
            else 0
        end as k
    from pooled
    left join dispersion
        on pooled.area_type = dispersion.area_type and pooled.offence_class = dispersion.offence_class
),

intervals as (
    select
        *,
        ln((treated_after + k) / nullif(expected_after + k, 0)) as log_rr,
        sqrt(dispersion * (
            1.0 / (treated_after + k) + 1.0 / (treated_before + k)
            + 1.0 / (control_after + k) + 1.0 / (control_before + k)
        )) as log_rr_se
    from corrected
),

final as (
    select
        area_type,
        offence_class,
        camera_positions::integer as camera_positions,
        treated_before::integer as treated_before,
        treated_after::integer as treated_after,
        control_before::integer as control_before,
        control_after::integer as control_after,
        expected_after,
        treated_after / nullif(expected_after, 0) as rate_ratio,
        exp(log_rr - 1.959964 * log_rr_se) as rate_ratio_ci_low,
        exp(log_rr + 1.959964 * log_rr_se) as rate_ratio_ci_high,
        dispersion,
        expected_after - treated_after as offences_prevented
    from intervals
)

select * from final
