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
        {{ lineage_columns() }}
    from source
),

final as (
    select * from renamed
)

select * from final
