with source as (
    select * from {{ source('survey', 'survey') }}
),

renamed as (
    select
        wave,
        respondent_id,
        district_id,
        weight,
        sex_code,
        age_group,
        q1_safe_day,
        q2_safe_night,
        q3_safe_neighbourhood,
        q4_safe_centre,
        q5_trust_city_guard,
        q6_trust_police,
        q7_knows_cameras,
        m1_latitude,
        m1_longitude,
        m1_reason,
        m2_latitude,
        m2_longitude,
        m2_reason,
        m3_latitude,
        m3_longitude,
        m3_reason,
        {{ lineage_columns() }}
    from source
),

final as (
    select * from renamed
)

select * from final
