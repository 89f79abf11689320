{#- Perceived against recorded safety per district and survey wave.

    Perception: the design-weighted share of residents who feel unsafe in the city at
    night (q2 = 1 or 2 among the valid answers 1–5; 9 "don't know" excluded), with a
    95 % normal-approximation interval on Kish's effective sample size
    n_eff = (Σw)² / Σw², which accounts for unequal weights. Districts with fewer than
    10 valid respondents in a wave are suppressed (values and respondent count null, flag
    set). The wave's total of respondents is public (the city publishes its sample size),
    so a single suppressed district could be recovered from the others: where a wave has
    exactly one, the district with the fewest respondents among the rest is suppressed
    too (complementary suppression), and no wave ever has exactly one suppressed cell.
    Recorded: offences of the wave's half-year (spring wave: January–June, autumn:
    July–December) per 1,000 registered residents. The gap compares the two as z-scores
    across the districts of the wave: positive where residents feel less safe than the
    records alone would suggest. Places marked as dangerous are counted in the district
    where they lie (any respondent may mark any place), per km² of the district; a
    count of points carries no respondent's answers, so it is not suppressed. -#}
with responses as (
    select * from {{ ref('stg_survey__responses') }}
),

districts as (
    select * from {{ ref('dim_district') }}
),

offences as (
    select * from {{ ref('int_offences_classified') }}
),

marked as (
    -- places marked as dangerous, counted where they lie (not where the respondent lives)
    select
        wave,
        district_id,
        count(*) as unsafe_places_marked
    from {{ ref('fct_unsafe_place') }}
    where district_id is not null
    group by wave, district_id
),

waves as (
    select distinct
        wave,
        cast(left(wave, 4) as integer) as wave_year,
        case right(wave, 1) when 'W' then 'spring' else 'autumn' end as wave_season,
        make_date(cast(left(wave, 4) as integer), case right(wave, 1) when 'W' then 1 else 7 end, 1)
            as period_start
    from responses
),

valid as (
    select
        wave,
        district_id,
        weight,
        case when q2_safe_night in (1, 2) then 1.0 else 0.0 end as is_unsafe_night,
        cast(q2_safe_night as double) as q2
    from responses
    where q2_safe_night between 1 and 5
),

perceived as (
    select
        wave,
        district_id,
        count(*) as respondents,
        sum(weight * is_unsafe_night) / sum(weight) as unsafe_night_share,
        sum(weight * q2) / sum(weight) as mean_safe_night,
        pow(sum(weight), 2) / sum(weight * weight) as effective_n
    from valid
    group by wave, district_id
),

located as (
    -- each offence's half-year, the period a wave asks about
    select
        district_id,
        make_date(year(occurred_date), case when month(occurred_date) <= 6 then 1 else 7 end, 1) as period_start
    from offences
    where district_id is not null
),

recorded as (
    select
        waves.wave,
        located.district_id,
        count(*) as offences_recorded
    from waves
    inner join located on waves.period_start = located.period_start
    group by waves.wave, located.district_id
),

combined as (
    select
        waves.wave,
        waves.wave_year,
        waves.wave_season,
        districts.district_id,
        districts.district_name,
        districts.population_2019,
        coalesce(perceived.respondents, 0) as respondents,
        coalesce(perceived.respondents, 0) < 10 as is_primary_suppressed,
        perceived.unsafe_night_share,
        perceived.mean_safe_night,
        perceived.effective_n,
        coalesce(recorded.offences_recorded, 0) as offences_recorded,
        1000.0 * coalesce(recorded.offences_recorded, 0) / districts.population_2019 as offences_per_1000,
        coalesce(marked.unsafe_places_marked, 0) as unsafe_places_marked,
        coalesce(marked.unsafe_places_marked, 0) / districts.area_km2 as unsafe_places_per_km2
    from waves
    cross join districts
    left join perceived on waves.wave = perceived.wave and districts.district_id = perceived.district_id
    left join recorded on waves.wave = recorded.wave and districts.district_id = recorded.district_id
    left join marked on waves.wave = marked.wave and districts.district_id = marked.district_id
),

suppression as (
    -- a lone suppressed district in a wave takes the smallest other one with it
    select
        *,
        is_primary_suppressed
        or (
            count(*) filter (where is_primary_suppressed) over (partition by wave) = 1
            and not is_primary_suppressed
            and row_number() over (
                partition by wave, is_primary_suppressed order by respondents, district_id
            ) = 1
        ) as is_suppressed
    from combined
),

final as (
    select
        wave,
        wave_year,
        wave_season,
        district_id,
        district_name,
        population_2019,
        case when not is_suppressed then respondents end as respondents,
        is_suppressed,
        case
            when is_primary_suppressed then 'fewer_than_10'
            when is_suppressed then 'complementary'
        end as suppression_reason,
        case when not is_suppressed then unsafe_night_share end as unsafe_night_share,
        case when not is_suppressed then greatest(
                    0.0, unsafe_night_share
                    - 1.959964 * sqrt(unsafe_night_share * (1 - unsafe_night_share) / effective_n)
                )
        end
            as unsafe_night_share_ci_low,
        case when not is_suppressed then least(
                    1.0, unsafe_night_share
                    + 1.959964 * sqrt(unsafe_night_share * (1 - unsafe_night_share) / effective_n)
                )
        end
            as unsafe_night_share_ci_high,
        case when not is_suppressed then mean_safe_night end as mean_safe_night,
        case when not is_suppressed then effective_n end as effective_n,
        offences_recorded,
        offences_per_1000,
        unsafe_places_marked,
        unsafe_places_per_km2,
        case when not is_suppressed then
                (unsafe_night_share - avg(unsafe_night_share) filter (where not is_suppressed) over w)
                / nullif(stddev_samp(unsafe_night_share) filter (where not is_suppressed) over w, 0)
                - (offences_per_1000 - avg(offences_per_1000) filter (where not is_suppressed) over w)
                / nullif(stddev_samp(offences_per_1000) filter (where not is_suppressed) over w, 0)
        end as perception_gap_z
    from suppression
    window w as (partition by wave)
)

select * from final
