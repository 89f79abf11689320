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
        {{ lineage_columns() }}
    from source
),

final as (
    select * from renamed
)

select * from final
