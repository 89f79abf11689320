{#- The city's official district layer (dbt/reference/ATTRIBUTION.md), already in
    EPSG:2180 with x = easting. ST_Read keeps the file's coordinates as they are. -#}
with source as (
    select *
    from st_read('{{ env_var("DBT_KSP_REFERENCE_DIR") }}/krakow_districts_official_epsg2180.geojson')
),

renamed as (
    select
        cast(id_dzielni as integer) as district_id,
        nr_dzielni as district_no,
        nazwa as district_name,
        geom as boundary_geom
    from source
),

final as (
    select * from renamed
)

select * from final
