with source as (
    select * from {{ source('police', 'police') }}
),

renamed as (
    select
        incident_id,
        occurred_local,
        occurred_at,
        cast(occurred_local as date) as occurred_date,
        is_time_ambiguous,
        is_time_nonexistent,
        legal_qualification,
        legal_code,
        article,
        paragraph,
        street,
        -- Polish geodetic convention: X is the northing, Y the easting.
        easting_y as easting_m,
        northing_x as northing_m,
        latitude,
        longitude,
        is_inside_city,
        note,
        {{ lineage_columns() }}
    from source
),

final as (
    select * from renamed
)

select * from final
