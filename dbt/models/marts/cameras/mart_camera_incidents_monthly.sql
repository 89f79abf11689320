{#- Incidents recorded within the camera radius (150 m, EPSG:2180) of each camera
    point, per calendar month, split at the installation and removal dates so that
    before and after can be compared on equal exposure (days_in_period). -#}
with cameras as (
    select * from {{ ref('int_camera_points_current') }}
),

incidents as (
    select * from {{ ref('int_police_incidents_located') }}
),

months as (
    select cast(t.month_start as date) as month_start_date
    from range(
            (select date_trunc('month', min(occurred_date)) from incidents),
            (select date_trunc('month', max(occurred_date)) from incidents) + interval 1 month,
            interval 1 month
        ) as t (month_start)
),

camera_months as (
    select
        cameras.camera_point_id,
        cameras.installed_date,
        cameras.removed_date,
        months.month_start_date,
        cast(months.month_start_date + interval 1 month as date) as next_month_start_date
    from cameras
    cross join months
),

periods as (
    select
        camera_point_id,
        month_start_date,
        'before_install' as period,
        date_diff('day', month_start_date, least(next_month_start_date, installed_date)) as days_in_period
    from camera_months
    where month_start_date < installed_date

    union all

    select
        camera_point_id,
        month_start_date,
        'after_install' as period,
        date_diff(
            'day',
            greatest(month_start_date, installed_date),
            least(next_month_start_date, coalesce(removed_date, next_month_start_date))
        ) as days_in_period
    from camera_months
    where next_month_start_date > installed_date
        and (removed_date is null or month_start_date < removed_date)

    union all

    select
        camera_point_id,
        month_start_date,
        'after_removal' as period,
        date_diff('day', greatest(month_start_date, removed_date), next_month_start_date) as days_in_period
    from camera_months
    where removed_date is not null and next_month_start_date > removed_date
),

incidents_near_cameras as (
    select
        cameras.camera_point_id,
        cast(date_trunc('month', incidents.occurred_date) as date) as month_start_date,
        case
            when incidents.occurred_date < cameras.installed_date then 'before_install'
            when cameras.removed_date is not null and incidents.occurred_date >= cameras.removed_date
                then 'after_removal'
            else 'after_install'
        end as period,
        incidents.incident_id
    from cameras
    inner join incidents
        on st_dwithin(cameras.point_geom, incidents.point_geom, {{ var('camera_radius_m') }})
),

counted as (
    select
        camera_point_id,
        month_start_date,
        period,
        count(*) as incident_count
    from incidents_near_cameras
    group by all
),

final as (
    select
        cameras.camera_point_id,
        cameras.location_name,
        cameras.camera_kind,
        cameras.district_id,
        cameras.easting_m,
        cameras.northing_m,
        cameras.installed_date,
        cameras.removed_date,
        periods.month_start_date,
        periods.period,
        periods.period = 'after_install' as is_after_install,
        cast(
            date_diff('month', date_trunc('month', cameras.installed_date), periods.month_start_date)
            as integer
        ) as months_since_install,
        cast(periods.days_in_period as integer) as days_in_period,
        cast(coalesce(counted.incident_count, 0) as bigint) as incident_count,
        coalesce(counted.incident_count, 0) * 30.0 / periods.days_in_period as incidents_per_30_days
    from periods
    inner join cameras on periods.camera_point_id = cameras.camera_point_id
    left join counted
        on periods.camera_point_id = counted.camera_point_id
            and periods.month_start_date = counted.month_start_date
            and periods.period = counted.period
    where periods.days_in_period > 0
)

select * from final
