with source as (
    select * from {{ source('city_guard', 'city_guard') }}
),

renamed as (
    select
        record_id,
        occurred_at,
        article_kw,
        category_label,
        latitude,
        longitude,
        patrol_area,
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
