{#- Places the marts weigh cameras against, one row each, in EPSG:2180.

    Transfer nodes and loops come from the real GTFS stops, by the rule the city's
    transport planners use for a node (stops.txt has no such flag): a stop with six or
    more platforms, or named as a loop ("Pętla"), station ("Dworzec") or roundabout
    ("Rondo"); a loop or a station is a `loop`, the rest `transfer_node`. Schools,
    kindergartens, playgrounds, parks, commercial streets and fibre/power access points
    come from the city's places layer. `is_vulnerable_users` marks the places the
    relocation plan and the school-route mart protect first (children, and the crowds
    of a transfer node). -#}
with places as (
    select * from {{ ref('stg_reference__places') }}
),

stops as (
    select * from {{ ref('stg_reference__transit_stops') }}
),

districts as (
    select * from {{ ref('stg_reference__district_boundaries') }}
),

nodes as (
    select
        'GTFS-' || md5(stops.stop_name)[:10] as poi_id,
        case when stops.stop_name ilike '%pętla%' or stops.stop_name ilike '%dworzec%' then 'loop'
            else 'transfer_node'
        end as poi_kind,
        stops.stop_name as poi_name,
        districts.district_id,
        st_point(stops.easting_m, stops.northing_m) as poi_geom,
        'gtfs' as source_layer
    from stops
    inner join districts on st_contains(districts.boundary_geom, st_point(stops.easting_m, stops.northing_m))
    where stops.platform_count >= 6
        or stops.stop_name ilike '%pętla%'
        or stops.stop_name ilike '%dworzec%'
        or stops.stop_name ilike '%rondo%'
),

city_places as (
    select
        place_id as poi_id,
        place_kind as poi_kind,
        place_name as poi_name,
        district_id,
        place_geom as poi_geom,
        'city_places' as source_layer
    from places
),

unioned as (
    select * from nodes
    union all
    select * from city_places
),

final as (
    select
        poi_id,
        poi_kind,
        poi_name,
        district_id,
        st_geometrytype(poi_geom)::varchar as geometry_type,
        -- a line's representative point is its centroid; the distance work uses the geometry
        st_x(st_centroid(poi_geom)) as easting_m,
        st_y(st_centroid(poi_geom)) as northing_m,
        poi_kind in ('school', 'kindergarten', 'playground', 'transfer_node', 'loop') as is_vulnerable_users,
        source_layer,
        st_astext(poi_geom) as geometry_wkt_epsg2180
    from unioned
)

select * from final
