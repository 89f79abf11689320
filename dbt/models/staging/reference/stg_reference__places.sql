{#- The city geoportal's places layer (KSP_PLACES_PATH, written by `ksp simulate` for the
    simulated city): schools, kindergartens, playgrounds, parks, commercial streets
    (lines) and fibre/power access points, geometries as WKT in EPSG:2180. Transfer
    nodes are not in it: stg_reference__transit_stops derives them from the real GTFS. -#}
with source as (
    select *
    from read_csv(
            '{{ env_var("DBT_KSP_PLACES_PATH") }}',
            header = true,
            columns = {
                'place_id': 'varchar', 'kind': 'varchar', 'name': 'varchar',
                'district_id': 'integer', 'geometry_wkt': 'varchar'
            }
        )
),

renamed as (
    select
        place_id,
        kind as place_kind,
        name as place_name,
        district_id,
        st_geomfromtext(geometry_wkt) as place_geom
    from source
),

final as (
    select * from renamed
)

select * from final
