// Generated from the county layer's operations (crates/county/src/typescript.rs).
// Do not edit: SANJIAN_BLESS=1 cargo test -p county --test typescript rewrites it.

/** @type {Record<string, { status: number, zh: string, en: string }>} */
export const codes = {
  AREA_NOT_FOUND: { status: 404, zh: "没有这个区域", en: "No such area" },
  BAD_REQUEST: { status: 400, zh: "请求内容有误", en: "The request is malformed" },
  BLOBS_UNAVAILABLE: { status: 503, zh: "服务器未配置照片存储", en: "The server keeps no attachments" },
  CANNOT_DISABLE_SELF: { status: 409, zh: "不能停用自己的账号", en: "You cannot disable your own account" },
  DEVICE_ID_TAKEN: { status: 409, zh: "该设备标识已被另一台设备使用", en: "This device id is already used by another device" },
  DEVICE_NOT_FOUND: { status: 404, zh: "找不到该设备", en: "No such device" },
  DEVICE_REVOKED: { status: 401, zh: "该设备已被停用，请联系县总工会", en: "This device was revoked; contact the county federation" },
  DEVICE_SUSPENDED: { status: 403, zh: "本设备查询了过多本辖区以外的记录，已暂停同步；请联系县总工会核实后恢复", en: "This device asked about too many records outside its area and is suspended; the county federation can reinstate it" },
  DEVICE_WIPED: { status: 401, zh: "县总工会已要求清除本机数据", en: "The county federation asked for this device's data to be wiped" },
  ENROLMENT_INVALID: { status: 401, zh: "注册码无效、已过期或已被使用", en: "The enrolment code is not valid, has expired or was already used" },
  EXPORTS_BUSY: { status: 429, zh: "导出任务过多，请等待已有导出完成", en: "Too many exports at once; wait for one to finish" },
  EXPORT_NOT_FOUND: { status: 404, zh: "没有这个导出任务", en: "No such export" },
  EXPORT_RUNNING: { status: 409, zh: "导出尚未完成", en: "The export has not finished" },
  FORBIDDEN: { status: 403, zh: "没有权限执行此操作", en: "You may not do this" },
  IMPORT_MAPPING: { status: 400, zh: "请指定哪一列是单位名称", en: "Say which column holds the entity's name" },
  NOTHING_TO_REVIEW: { status: 409, zh: "没有待审核的信用代码", en: "There is no kept credit code to review" },
  NOT_FOUND: { status: 404, zh: "没有找到：该地址或记录不存在", en: "Not found: no such address or record" },
  PHOTO_NOT_FOUND: { status: 404, zh: "没有这张照片", en: "No such photo" },
  PHOTO_NOT_UPLOADED: { status: 404, zh: "照片尚未从设备上传", en: "The photo has not been uploaded from its device yet" },
  TOO_MANY_ATTEMPTS: { status: 429, zh: "尝试次数过多，请稍后再试", en: "Too many attempts: try again later" },
  UNAUTHENTICATED: { status: 401, zh: "未登录或凭据无效", en: "Not signed in, or the credentials are not valid" },
  USER_EXISTS: { status: 409, zh: "该账号已存在", en: "That account exists already" },
  USER_NOT_FOUND: { status: 404, zh: "找不到该账号", en: "No such account" },
};
