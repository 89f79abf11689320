{#- One row per respondent and wave, with the design weight and the indicators the
    district marts aggregate. Respondent-level: this table lives in the `restricted`
    schema, which is never published to the researchers' copy; marts carry only
    weighted district aggregates with small cells suppressed. -#}
with responses as (
    select * from {{ ref('stg_survey__responses') }}
),

final as (
    select
        wave,
        respondent_id::bigint as respondent_id,
        district_id::integer as district_id,
        weight::double as weight,
        sex_code::integer as sex_code,
        age_group::integer as age_group,
        q1_safe_day::integer as q1_safe_day,
        q2_safe_night::integer as q2_safe_night,
        q3_safe_neighbourhood::integer as q3_safe_neighbourhood,
        q4_safe_centre::integer as q4_safe_centre,
        q5_trust_city_guard::integer as q5_trust_city_guard,
        q6_trust_police::integer as q6_trust_police,
        q7_knows_cameras::integer as q7_knows_cameras,
        -- 1–2 on the five-point scale; 9 ("don't know") and gaps are not an answer
        case when q2_safe_night between 1 and 5 then q2_safe_night in (1, 2) end as feels_unsafe_at_night,
        case when q3_safe_neighbourhood between 1 and 5 then q3_safe_neighbourhood in (1, 2) end
            as feels_unsafe_in_neighbourhood,
        (
            (m1_latitude is not null)::integer + (m2_latitude is not null)::integer
            + (m3_latitude is not null)::integer
        )::integer as unsafe_places_marked
    from responses
)

select * from final
