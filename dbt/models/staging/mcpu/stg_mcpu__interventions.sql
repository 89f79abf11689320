with source as (
    select * from {{ source('mcpu', 'mcpu') }}
),

renamed as (
    select
        occurred_local,
        occurred_at,
        is_time_ambiguous,
        is_time_nonexistent,
        street,
        district_id,
        kind_code,
        latitude,
        longitude,
        easting_m,
        northing_m,
        is_inside_city,
        _delivery_id as delivery_id,
        _source_file as source_file,
        _line as source_line,
        _ingested_at as ingested_at
    from source
),

final as (
    select * from renamed
)

select * from final
