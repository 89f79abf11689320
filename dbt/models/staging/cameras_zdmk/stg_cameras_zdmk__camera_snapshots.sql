with source as (
    select * from {{ source('cameras_zdmk', 'cameras_zdmk') }}
),

renamed as (
    select
        cast(_period_key as date) as snapshot_date,
        camera_point_id,
        name,
        camera_kind,
        installed_date,
        is_active,
        camera_count,
        longitude,
        latitude,
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
