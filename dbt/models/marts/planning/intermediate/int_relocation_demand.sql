{#- What a freshly installed camera could prevent, on a 50 m lattice: offences of the
    last 365 days of data within each 50 m square, turned into offences a year a camera
    would prevent there using the city's own pooled estimates
    (mart_camera_effect_by_area: 1 − RR for the square's kind of place and each class,
    counted only where the interval excludes 1, so a class the cameras do not deter
    adds nothing), and weighted up near the places the city protects first: ×1.5 with a
    school, kindergarten or playground within 300 m, ×1.5 with a transit node within
    300 m (both: ×2). -#}
{%- set lattice = 50 %}
with horizon as (
    select max(occurred_date) as last_day from {{ ref('fct_incident') }}
),

recent as (
    select
        incidents.offence_class,
        floor(incidents.easting_m / {{ lattice }}) * {{ lattice }} + {{ lattice / 2 }} as easting_m,
        floor(incidents.northing_m / {{ lattice }}) * {{ lattice }} + {{ lattice / 2 }} as northing_m
    from {{ ref('fct_incident') }} as incidents, horizon
    where incidents.easting_m is not null and incidents.occurred_date > horizon.last_day - interval 365 day
),

squares as (
    select
        'D' || easting_m::integer || '_' || northing_m::integer as demand_id,
        easting_m,
        northing_m,
        offence_class,
        count(*) as offences_last_year
    from recent
    group by all
),

located as (
    select distinct
        demand_id,
        easting_m,
        northing_m,
        st_point(easting_m, northing_m) as point_geom
    from squares
),

places as (
    select
        poi_kind,
        st_geomfromtext(geometry_wkt_epsg2180) as poi_geom
    from {{ ref('dim_poi') }}
),

near as (
    select
        located.demand_id,
        count(
            *) filter (
            where places.poi_kind in ('transfer_node', 'loop')
            and st_distance(located.point_geom, places.poi_geom) <= 250
        ) as transit_nodes_250m,
        count(
            *) filter (
            where places.poi_kind in ('transfer_node', 'loop')
            and st_distance(located.point_geom, places.poi_geom) <= 300
        ) as transit_nodes_300m,
        count(
            *) filter (
            where places.poi_kind = 'commercial'
            and st_distance(located.point_geom, places.poi_geom) <= 300
        ) as commercial_streets_300m,
        count(
            *) filter (
            where places.poi_kind in ('school', 'kindergarten', 'playground')
            and st_distance(located.point_geom, places.poi_geom) <= 300
        ) as children_places_300m
    from located
    inner join places on st_dwithin(located.point_geom, places.poi_geom, 500)
    group by located.demand_id
),

typed as (
    select
        located.demand_id,
        located.easting_m,
        located.northing_m,
        {{ area_type('near.transit_nodes_250m', 'near.commercial_streets_300m', 'located.point_geom') }}
            as area_type,
        coalesce(near.children_places_300m, 0) > 0 as is_near_children_places,
        coalesce(near.transit_nodes_300m, 0) > 0 as is_near_transit_node
    from located
    left join near on located.demand_id = near.demand_id
),

effects as (
    select
        area_type,
        offence_class,
        greatest(0, 1 - rate_ratio) as prevented_share
    from {{ ref('mart_camera_effect_by_area') }}
    where rate_ratio_ci_high < 1
),

valued as (
    select
        typed.demand_id,
        sum(squares.offences_last_year) as offences_last_year,
        sum(squares.offences_last_year * coalesce(effects.prevented_share, 0)) as preventable_per_year
    from typed
    inner join squares on typed.demand_id = squares.demand_id
    left join effects on typed.area_type = effects.area_type and squares.offence_class = effects.offence_class
    group by typed.demand_id
),

final as (
    select
        typed.demand_id,
        typed.easting_m,
        typed.northing_m,
        typed.area_type,
        typed.is_near_children_places,
        typed.is_near_transit_node,
        valued.offences_last_year,
        valued.preventable_per_year,
        valued.preventable_per_year
        * (1 + 0.5 * typed.is_near_children_places::integer + 0.5 * typed.is_near_transit_node::integer)
            as weighted_value
    from typed
    inner join valued on typed.demand_id = valued.demand_id
)

select * from final
