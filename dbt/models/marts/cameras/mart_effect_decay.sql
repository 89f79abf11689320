{#- Does the camera still work? The deterrence effect of each camera position year by
    year since it was installed or last moved, for the offences a camera deters
    (the `instrumental` scope of mart_displacement: property and public order), and a
    flag on positions whose effect has faded.

    Per year k after the position was taken: RR_k = (A_k / A_before) / (L_k / L_before),
    coverage against its *local* control L, the 150–400 m ring less every camera's
    coverage, with the 12 months before as baseline and a 95 % Poisson interval. The
    control is local because fading is judged over up to seven years, in which the
    neighbourhood itself drifts (a hotspot settles or leaves; the simulated city moves
    a third of its hotspots each year): against the 500–1,000 m ring that drift reads
    as an effect that neither fades nor was ever the camera's. Displacement into the
    ring would flatter the first year slightly (about 1 % at the planted shares).
    The remaining share of the first year's effect is log RR_latest / log RR_1
    (1 = as strong as in the first year, 0 = gone), read only when the first year
    showed an effect (RR_1 < 1).

    Faded (stated rule: the definition of fading applied to the estimate, and a test that
    the effect did weaken): the position has at least two years of data, its first year
    showed an effect whose interval excludes 1, in its latest year the effect is at most
    {{ var('faded_below') }} of the first year's, and the latest year differs from the
    first beyond chance. That last test is the change ratio C = (A_latest / A_1) /
    (L_latest / L_1), the latest year against the first on the same local control (the
    baseline cancels, so its SE is that of four counts); a fade needs its 95 % interval
    above 1. Without it, a working camera whose latest year is merely noisy was flagged:
    at seed 1, 3 of 7 flags were cameras whose effect had not faded, every one with a
    latest-year interval reaching back to the first year's effect. `fade_evidence`
    spells out the figures. `is_faded` is null where
    the mart cannot judge: under two years at the position, or no first-year effect
    resolved (nothing to fade from; such a camera may still be worth moving, but this
    mart cannot say).

    Power: `fade_mde_share`, the smallest loss of the first year's effect (share of its
    log rate ratio) that the change test detects with 80 % power, 2.8 SE(ln C) /
    |log RR_1| (macros/power.sql). Verdict (`fade_verdict`):
      too_early_to_tell     under two years at the position
      no_effect_to_fade     the first year's effect is not resolved
      faded                 the stated rule above (all three conditions)
      effect_holds          the latest year's interval lies wholly on the effective side
                            of the faded threshold (the effect clearly remains)
      no_fade_detectable    not faded by the rule, and the latest year cannot exclude it:
                            read with `fade_mde_share` (≥ 1: the counts cannot tell a
                            faded camera from a working one) -#}
with yearly as (
    -- the periods mart_displacement weighs, for the offences a camera deters
    select * from {{ ref('int_camera_offences_counted') }}
    where offence_scope = 'instrumental' and has_long_windows and has_paired_offences
),

rated as (
    select
        camera_point_version_id,
        camera_point_id,
        period_no,
        effect_start_date,
        after_start,
        after_end,
        coverage_before,
        coverage_after,
        ring_uncovered_before as local_control_before,
        ring_uncovered_after as local_control_after,
        {{ log_rate_ratio('coverage_after', 'coverage_before', 'ring_uncovered_after', 'ring_uncovered_before') }}
            as log_rr,
        {{ log_rate_ratio_se('coverage_after', 'coverage_before', 'ring_uncovered_after', 'ring_uncovered_before') }}
            as log_rr_se,
        max(period_no) over (partition by camera_point_version_id) as latest_period_no
    from yearly
),

first_and_latest as (
    select
        camera_point_version_id,
        max(log_rr) filter (where period_no = 1) as first_log_rr,
        max(log_rr_se) filter (where period_no = 1) as first_log_rr_se,
        max(log_rr) filter (where period_no = latest_period_no) as latest_log_rr,
        max(log_rr_se) filter (where period_no = latest_period_no) as latest_log_rr_se,
        max(latest_period_no) as latest_period_no,
        max(coverage_after) filter (where period_no = 1) as first_coverage,
        max(local_control_after) filter (where period_no = 1) as first_local_control,
        max(coverage_after) filter (where period_no = latest_period_no) as latest_coverage,
        max(local_control_after) filter (where period_no = latest_period_no) as latest_local_control
    from rated
    group by camera_point_version_id
),

judged as (
    select
        *,
        case when first_log_rr < 0 then latest_log_rr / first_log_rr end as remaining_effect_share,
        first_log_rr + 1.959964 * first_log_rr_se < 0 as first_year_effect_clear,
        latest_log_rr + 1.959964 * latest_log_rr_se < 0 as latest_year_effect_clear,
        -- the latest year against the first: > 0 where the effect weakened
        {{ log_rate_ratio('latest_coverage', 'first_coverage', 'latest_local_control', 'first_local_control') }}
            as change_log_ratio,
        {{ log_rate_ratio_se('latest_coverage', 'first_coverage', 'latest_local_control', 'first_local_control') }}
            as change_log_ratio_se
    from first_and_latest
),

tested as (
    select
        *,
        change_log_ratio - 1.959964 * change_log_ratio_se > 0 as weakened
    from judged
),

flagged as (
    select
        *,
        case
            when latest_period_no < 2 then null
            when not first_year_effect_clear then null
            else remaining_effect_share <= {{ var('faded_below') }} and weakened
        end as is_faded,
        {{ mde_log_ratio('change_log_ratio_se') }} / nullif(abs(first_log_rr), 0) as fade_mde_share,
        case
            when latest_period_no < 2 then 'too_early_to_tell'
            when not first_year_effect_clear then 'no_effect_to_fade'
            when remaining_effect_share <= {{ var('faded_below') }} and weakened then 'faded'
            when latest_log_rr + 1.959964 * latest_log_rr_se < {{ var('faded_below') }} * first_log_rr
                then 'effect_holds'
            else 'no_fade_detectable'
        end as fade_verdict
    from tested
),

final as (
    select
        rated.camera_point_version_id,
        rated.camera_point_id,
        rated.period_no::integer as years_since_position,
        rated.effect_start_date,
        rated.after_start as period_start,
        rated.after_end as period_end,
        rated.coverage_before,
        rated.coverage_after,
        rated.local_control_before,
        rated.local_control_after,
        exp(rated.log_rr) as rate_ratio,
        exp(rated.log_rr - 1.959964 * rated.log_rr_se) as rate_ratio_ci_low,
        exp(rated.log_rr + 1.959964 * rated.log_rr_se) as rate_ratio_ci_high,
        exp(flagged.first_log_rr) as first_year_rate_ratio,
        exp(flagged.latest_log_rr) as latest_year_rate_ratio,
        flagged.latest_period_no::integer as latest_year_since_position,
        flagged.remaining_effect_share,
        exp(flagged.change_log_ratio) as effect_change_ratio,
        exp(flagged.change_log_ratio - 1.959964 * flagged.change_log_ratio_se) as effect_change_ci_low,
        exp(flagged.change_log_ratio + 1.959964 * flagged.change_log_ratio_se) as effect_change_ci_high,
        flagged.is_faded,
        flagged.fade_mde_share,
        flagged.fade_verdict,
        case
            when flagged.latest_period_no < 2 then 'under two years at this position: too early to judge'
            when not flagged.first_year_effect_clear
                then printf(
                        'no clear effect in the first year (RR %.2f, interval includes 1)', exp(flagged.first_log_rr)
                    )
            else printf(
                    'first year RR %.2f; year %d RR %.2f (interval %s 1); %.0f %% of the first year''s effect left; '
                    || 'change against the first year %.2f [%.2f, %.2f]',
                    exp(flagged.first_log_rr), flagged.latest_period_no, exp(flagged.latest_log_rr),
                    case when flagged.latest_year_effect_clear then 'excludes' else 'includes' end,
                    100 * coalesce(flagged.remaining_effect_share, 0),
                    exp(flagged.change_log_ratio),
                    exp(flagged.change_log_ratio - 1.959964 * flagged.change_log_ratio_se),
                    exp(flagged.change_log_ratio + 1.959964 * flagged.change_log_ratio_se)
                )
        end as fade_evidence
    from rated
    inner join flagged on rated.camera_point_version_id = flagged.camera_point_version_id
)

select * from final
